"""Check that saewidgets really uses a CUDA machine, in at most five minutes, and say how fast.

    python bench/gpu_check.py [--json numbers.json]        # on a machine with one or more NVIDIA GPUs
    python bench/gpu_check.py --cpu-smoke [--json ...]     # the same checks at toy sizes on a CPU (the tests)

The checks, one function each, each a row of the summary table (the script exits 1 if any fails):
  1. device    default_device() is cuda, and load_model / train put the model and the SAE there;
  2. matmul    this GPU's bf16 matmul rate (8192 x 8192 @ 8192 x 8192, timed with CUDA events): the roofline;
  3. train/*   every architecture trains under the default autocast ("auto" = bf16 on CUDA) at a realistic
               size on structured synthetic data held on the device: the loss stays finite, L0 and FVU are
               sane, bf16 ends where fp32 does, and tokens/s is reported as a fraction of the matmul rate.
               FLOP per token = 6 GEMMs (encoder and decoder forward; the gradients w.r.t. input and weight of
               each, backward) x 2 * d_in * d_sae = 12 * d_in * d_sae: the dense-SAE count (TopK's sparse
               decoder does less, Gated's auxiliary reconstruction more), one scale for every architecture;
     gradients one fp32 forward + backward of each architecture on the GPU equals the same on the CPU;
  4. ddp       torchrun with NCCL over every visible GPU (one GPU: world size 1 still runs NCCL's init and
               its collectives, which the replica comparison uses); the ranks' weights must stay identical;
  5. generate  harvest from the bundled storyteller model on the GPU, train a small SAE on it, and generate
               unsteered and steered greedy text with saewidgets.steering.generate: the unsteered text must
               hold at least three sentences (a broken KV cache gives "the the the ..."), the steered text
               must differ.

--cpu-smoke runs all of it at toy sizes, fp32 and gloo instead of bf16 and NCCL, and makes no claim about bf16
rates: it is how tests/test_gpu_check.py runs this script end to end without a GPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

ARCHITECTURES = ("relu", "gated", "topk", "batchtopk", "jumprelu")
HOOK = "blocks.1.hook_resid_post"  # the CLI's default site in the storyteller model
PROMPT = "Once upon a time"
NO_GPU = (
    "No CUDA GPU is visible (torch.cuda.is_available() is False), so there is nothing to check. Run "
    "this on a machine with an NVIDIA GPU and a CUDA build of torch, or pass --cpu-smoke to run the "
    "checks at toy sizes on the CPU."
)


@dataclass(frozen=True)
class Sizes:
    """Everything that differs between a real GPU check and the CPU smoke run."""

    device: str  # the device default_device() must choose
    d_in: int
    d_sae: int
    batch: int
    steps: int
    fid_d_in: int  # bf16 against fp32, and the device's gradients against the CPU's, at this smaller size
    fid_d_sae: int
    matmul_n: int
    matmul_dtype: torch.dtype
    ddp_backend: str
    ddp_world: int
    ddp_d_in: int
    ddp_d_sae: int
    ddp_steps: int
    harvest_tokens: int
    steer_d_sae: int
    steer_steps: int
    steer_batch: int
    new_tokens: int = 64


GPU = Sizes(
    "cuda",
    d_in=2048,
    d_sae=32_768,
    batch=4096,
    steps=200,
    fid_d_in=512,
    fid_d_sae=8192,
    matmul_n=8192,
    matmul_dtype=torch.bfloat16,
    ddp_backend="nccl",
    ddp_world=0,
    ddp_d_in=768,
    ddp_d_sae=16_384,
    ddp_steps=100,
    harvest_tokens=200_000,
    steer_d_sae=4096,
    steer_steps=300,
    steer_batch=4096,
)
SMOKE = Sizes(
    "cpu",
    d_in=64,
    d_sae=512,
    batch=512,
    steps=120,
    fid_d_in=32,
    fid_d_sae=256,
    matmul_n=512,
    matmul_dtype=torch.float32,
    ddp_backend="gloo",
    ddp_world=2,
    ddp_d_in=32,
    ddp_d_sae=256,
    ddp_steps=30,
    harvest_tokens=4096,
    steer_d_sae=512,
    steer_steps=60,
    steer_batch=256,
)


@dataclass
class Result:
    """One row of the summary table."""

    name: str
    ok: bool
    detail: str
    seconds: float = 0.0
    numbers: dict = field(default_factory=dict)


@dataclass
class Context:
    """What the checks share: the sizes, the options, and what earlier checks measured or loaded."""

    sizes: Sizes
    autocast: str
    flop_rate: float | None = None  # FLOP/s of the matmul check
    model: object = None


# ---------------------------------------------------------------------------------------------------- data


def structured_activations(n: int, d_in: int, device, seed: int = 0, mean_l0: float = 32.0):
    """Activations made of known sparse features, on ``device``: what an SAE can learn in a few hundred steps.

    4 * d_in unit directions fire with probabilities that fall off as 1/sqrt(rank) (mean L0 ``mean_l0``,
    capped at 0.5), at magnitudes |1 + 0.25 N(0,1)|, plus noise of sigma 0.01 and a fixed offset of norm 0.5
    (so b_dec has something to learn). Returned as a saewidgets ActivationSet."""
    from saewidgets import ActivationSet

    gen = torch.Generator(device).manual_seed(seed)
    n_feat = 4 * d_in
    dirs = torch.randn(n_feat, d_in, device=device, generator=gen)  # [n_feat, d_in]
    dirs /= dirs.norm(dim=1, keepdim=True)
    p = 1 / torch.arange(1, n_feat + 1, device=device).sqrt()  # [n_feat]
    p = (p * mean_l0 / p.sum()).clamp(max=0.5)
    offset = torch.randn(d_in, device=device, generator=gen)  # [d_in]
    offset *= 0.5 / offset.norm()
    x = torch.empty(n, d_in, device=device)  # [n, d_in]
    for i in range(0, n, 8192):  # in chunks: [chunk, n_feat] codes stay small
        m = min(8192, n - i)
        fire = torch.rand(m, n_feat, device=device, generator=gen) < p  # [m, n_feat]
        mag = (1 + 0.25 * torch.randn(m, n_feat, device=device, generator=gen)).abs()  # [m, n_feat]
        noise = 0.01 * torch.randn(m, d_in, device=device, generator=gen)  # [m, d_in]
        x[i : i + m] = (fire * mag) @ dirs + offset + noise
    ids = torch.zeros(n, dtype=torch.long, device=device)  # [n] no tokens behind synthetic rows
    norm_scale = float(d_in**0.5 / x.norm(dim=1).mean())  # as harvest sets it: E||x * scale|| = sqrt(d_in)
    return ActivationSet(x, ids, ids, ids, hook="synthetic", model_name="synthetic", norm_scale=norm_scale)


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _train_kwargs(ctx: Context) -> dict:
    return {} if ctx.autocast == "auto" else {"autocast": ctx.autocast}  # "auto": the library's default


# -------------------------------------------------------------------------------------------------- checks


def check_device(ctx: Context) -> Result:
    """1. Auto-selection: default_device(), then where load_model and train put the model and an SAE."""
    import saewidgets as sw

    want = ctx.sizes.device
    chosen = sw.default_device().type
    ctx.model = sw.load_model("storyteller")  # no device=: the default is what is checked
    model_dev = next(ctx.model.parameters()).device
    sae = sw.build_sae(sw.SAEConfig("topk", d_in=64, d_sae=256, k=8))
    acts = structured_activations(4 * 256, 64, "cpu")  # rows on the host: train moves each batch itself
    trained = sw.train(sae, acts, n_tokens=2 * 256, batch_size=256, progress=False).sae
    sae_dev = trained.W_enc.device
    ok = chosen == want and model_dev.type == want and sae_dev.type == want
    name = torch.cuda.get_device_name() if want == "cuda" and torch.cuda.is_available() else "cpu"
    detail = f"default {chosen} (want {want}); model on {model_dev}; SAE on {sae_dev}; {name}"
    return Result(
        "device",
        ok,
        detail,
        numbers={
            "default_device": chosen,
            "model_device": str(model_dev),
            "sae_device": str(sae_dev),
            "device_name": name,
        },
    )


def check_matmul(ctx: Context) -> Result:
    """2. The roofline: this device's rate on one big square matmul (bf16 on a GPU, fp32 in the smoke run)."""
    s = ctx.sizes
    n, dtype, device = s.matmul_n, s.matmul_dtype, s.device
    a = torch.randn(n, n, device=device, dtype=dtype)  # [n, n]
    b = torch.randn(n, n, device=device, dtype=dtype)  # [n, n]
    c = torch.empty(n, n, device=device, dtype=dtype)  # [n, n] written in place: no allocation is timed
    for _ in range(3):  # warm-up: cuBLAS picks its kernel, clocks ramp up
        torch.mm(a, b, out=c)
    _sync(device)
    reps, rounds = (20, 3) if device == "cuda" else (3, 3)
    per_mm = []
    for _ in range(rounds):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(reps):
                torch.mm(a, b, out=c)
            end.record()
            end.synchronize()
            per_mm.append(start.elapsed_time(end) / 1e3 / reps)
        else:
            t = time.perf_counter()
            for _ in range(reps):
                torch.mm(a, b, out=c)
            per_mm.append((time.perf_counter() - t) / reps)
    ctx.flop_rate = 2 * n**3 / min(per_mm)  # the best round: the rate the device can reach
    label = str(dtype).removeprefix("torch.")
    ok = math.isfinite(ctx.flop_rate) and ctx.flop_rate > 0 and bool(torch.isfinite(c.float()).all())
    return Result(
        "matmul",
        ok,
        f"{label} {n}x{n} @ {n}x{n}: {ctx.flop_rate / 1e12:.1f} TFLOP/s",
        numbers={"dtype": label, "n": n, "tflops": ctx.flop_rate / 1e12},
    )


def _train_run(arch: str, d_in: int, d_sae: int, ctx: Context, **kw) -> tuple[list[dict], float, object]:
    """Train one SAE at its default recipe on structured data held on the device: (history, tokens/s, SAE)."""
    import saewidgets as sw

    s = ctx.sizes
    # 16 batches held on the device, cycled through: no host-to-device copy is timed
    acts = structured_activations(16 * s.batch, d_in, s.device, seed=1)
    torch.manual_seed(0)
    sae = sw.build_sae(sw.SAEConfig(arch, d_in=d_in, d_sae=d_sae))
    stamps: list[float] = []  # wall time of each logged row (computing the row synchronised the GPU)
    result = sw.train(
        sae,
        acts,
        n_tokens=s.steps * s.batch,
        batch_size=s.batch,
        progress=False,
        log_every=max(1, s.steps // 4),
        callback=lambda row: stamps.append(time.perf_counter()),
        **kw,
    )
    rows = result.history
    # from the first logged row on: the first interval pays one-off costs (cuBLAS handles, kernel selection)
    tokens_per_s = (rows[-1]["tokens"] - rows[0]["tokens"]) / (stamps[-1] - stamps[0])
    return rows, tokens_per_s, result.sae


def check_train(ctx: Context, arch: str) -> Result:
    """3. One architecture at its default recipe: a timed run at the realistic size under the default autocast
    (finite, sane, tokens/s vs the matmul rate), then bf16 against fp32 at a smaller size, same data and seed.

    "Sane" means working, not well tuned (how good each recipe is, is bench/recipes.py's question): every loss
    term finite, some latents firing, FVU below 1.05 (no worse than predicting the mean), and bf16 autocast
    within 10 % (+0.02 FVU, +2 L0) of fp32 at the end."""
    s = ctx.sizes
    rows, tokens_per_s, sae = _train_run(arch, s.d_in, s.d_sae, ctx, **_train_kwargs(ctx))
    frac = tokens_per_s * 12 * s.d_in * s.d_sae / ctx.flop_rate if ctx.flop_rate else float("nan")
    bf16 = _train_run(arch, s.fid_d_in, s.fid_d_sae, ctx, autocast="bf16")[0][-1]
    fp32 = _train_run(arch, s.fid_d_in, s.fid_d_sae, ctx, autocast="off")[0][-1]
    last, problems = rows[-1], []
    keys = ("loss", "mse", "sparsity", "aux", "l0", "fvu")
    if not all(math.isfinite(r[key]) for r in [*rows, bf16, fp32] for key in keys):
        problems.append("a loss term or metric is not finite")
    if not (last["l0"] > 0 and last["fvu"] < 1.05):
        problems.append(f"L0 {last['l0']:.1f}, FVU {last['fvu']:.3f}: nothing fires, or worse than the mean")
    if not (
        abs(bf16["fvu"] - fp32["fvu"]) <= 0.1 * fp32["fvu"] + 0.02
        and abs(bf16["l0"] - fp32["l0"]) <= 0.1 * fp32["l0"] + 2
    ):
        problems.append(
            f"bf16 ends at L0 {bf16['l0']:.1f}, FVU {bf16['fvu']:.3f}; "
            f"fp32 at L0 {fp32['l0']:.1f}, FVU {fp32['fvu']:.3f}"
        )
    if sae.W_enc.device.type != s.device:
        problems.append(f"the SAE ended on {sae.W_enc.device}, not {s.device}")
    rate = f"{frac:.2f} of the matmul rate" if ctx.flop_rate else "no matmul rate"
    detail = (
        f"{tokens_per_s / 1e3:,.0f}k tok/s = {rate}; L0 {last['l0']:.1f}, FVU {last['fvu']:.3f}, "
        f"dead {last['dead_fraction']:.2f}; bf16/fp32 FVU {bf16['fvu']:.3f}/{fp32['fvu']:.3f}"
    )
    fidelity = {
        "d_in": s.fid_d_in,
        "d_sae": s.fid_d_sae,
        "bf16_fvu": bf16["fvu"],
        "fp32_fvu": fp32["fvu"],
        "bf16_l0": bf16["l0"],
        "fp32_l0": fp32["l0"],
    }
    return Result(
        f"train/{arch}",
        not problems,
        "; ".join(problems) or detail,
        numbers={
            "tokens_per_s": tokens_per_s,
            "matmul_fraction": frac,
            "l0": last["l0"],
            "fvu": last["fvu"],
            "dead_fraction": last["dead_fraction"],
            "loss": last["loss"],
            "d_in": s.d_in,
            "d_sae": s.d_sae,
            "batch": s.batch,
            "steps": s.steps,
            "fidelity": fidelity,
        },
    )


def check_gradients(ctx: Context) -> Result:
    """3b. One fp32 forward + backward of every architecture on the device against the same on the CPU: the
    device's kernels (TopK's sparse decoder gradient, the STEs, AuxK with some latents marked dead) compute
    the same loss and gradients. The relative error of each, ||g_dev - g_cpu|| / ||g_cpu||, must be <= 1e-2
    (a few TopK / threshold choices may flip on rounding; a wrong kernel is off by order 1)."""
    import saewidgets as sw

    s = ctx.sizes
    d_in, d_sae, batch = s.fid_d_in, s.fid_d_sae, s.batch
    x = structured_activations(batch, d_in, "cpu", seed=3).acts  # [batch, d_in]
    x = x * (d_in**0.5 / x.norm(dim=1).mean())  # normalised, as train() feeds it
    dead = torch.arange(d_sae) % 4 == 0  # [d_sae] a quarter "dead": AuxK / the pre-activation loss are on
    worst: dict[str, float] = {}
    saved = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")  # true fp32 on the GPU (no TF32) for the comparison
    try:
        for arch in ARCHITECTURES:
            grads = []
            for device in ("cpu", s.device):
                torch.manual_seed(0)
                sae = sw.build_sae(sw.SAEConfig(arch, d_in=d_in, d_sae=d_sae)).to(device).train()
                with torch.no_grad():  # b_dec at the mean, as init_b_dec starts it
                    sae.b_dec.copy_(x.mean(0))
                loss = sae.loss(x.to(device), dead_mask=dead.to(device))
                loss.total.backward()
                got = {n: p.grad.detach().cpu() for n, p in sae.named_parameters() if p.grad is not None}
                grads.append(got | {"loss": loss.total.detach().cpu()})
            cpu, dev = grads
            worst[arch] = max(float((dev[n] - cpu[n]).norm() / cpu[n].norm().clamp_min(1e-12)) for n in cpu)
    finally:
        torch.set_float32_matmul_precision(saved)
    bad = {a: e for a, e in worst.items() if not e <= 1e-2}
    errors = ", ".join(f"{a} {e:.1e}" for a, e in worst.items())
    return Result(
        "gradients",
        not bad,
        f"{s.device} vs cpu, worst relative gradient error: {errors}",
        numbers={"relative_error": worst, "d_in": d_in, "d_sae": d_sae, "batch": batch},
    )


def check_ddp(ctx: Context, worker_args: list[str]) -> Result:
    """4. torchrun over every visible GPU (gloo, 2 processes, in the smoke run); see ddp_worker."""
    import saewidgets

    s = ctx.sizes
    world = s.ddp_world or torch.cuda.device_count()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ddp.json"
        # --standalone: torchrun binds a free port itself (no race for one picked here)
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            str(world),
            str(Path(__file__).resolve()),
            "--ddp-worker",
            str(out),
            *worker_args,
        ]
        # the workers import the same saewidgets as this process
        root = str(Path(saewidgets.__file__).parents[1])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        if s.device == "cpu":
            env["OMP_NUM_THREADS"] = "1"  # two processes on a small CPU
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
            return Result("ddp", False, f"torchrun exited {proc.returncode}: " + " | ".join(tail))
        got = json.loads(out.read_text())
    diff = max(got["max_replica_diff"].values())
    # exactly 0: every rank applies the same all-reduced gradients to the same weights, so any difference is a
    # rank acting on its own slice of the batch (resampling, a batch statistic)
    ok = got["world"] == world and got["backend"] == s.ddp_backend and diff == 0 and got["finite"]
    worst = max(got["max_replica_diff"], key=got["max_replica_diff"].get)
    same = (
        f"replicas identical ({len(got['max_replica_diff'])} tensors)"
        if diff == 0
        else f"replicas differ by {diff:.2e} ({worst})"
    )
    detail = f"{got['backend']} x {got['world']}: {got['tokens_per_s'] / 1e3:,.0f}k tok/s; {same}" + (
        "" if got["finite"] else "; the loss is not finite"
    )
    return Result("ddp", ok, detail, numbers=got)


def ddp_worker(out: str, sizes: Sizes, autocast: str) -> None:
    """One torchrun process of check_ddp: train a ReLU SAE that resamples dead latents (a step where ranks
    could act on their own slice of the batch) and a BatchTopK SAE (whose threshold is estimated from a
    batch), then compare every parameter and buffer with rank 0's. Rank 0 writes the numbers to ``out``.
    tokens/s is over the whole train() calls, set-up included."""
    import torch.distributed as dist

    import saewidgets as sw

    dist.init_process_group(sizes.ddp_backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    if sizes.ddp_backend == "nccl":
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))  # train() runs on the current GPU
        device = torch.device("cuda", torch.cuda.current_device())
    else:
        device = torch.device("cpu")
    batch = sizes.batch * world  # the global batch: each rank takes sizes.batch rows of it
    acts = structured_activations(8 * batch, sizes.ddp_d_in, device, seed=2)  # identical on every rank
    diffs, finite, seconds = {}, True, 0.0
    recipes = {"relu": dict(resample_every=10, dead_window_tokens=4 * batch), "batchtopk": {}}
    kwargs = {} if autocast == "auto" else {"autocast": autocast}
    for arch, extra in recipes.items():
        torch.manual_seed(0)
        sae = sw.build_sae(sw.SAEConfig(arch, d_in=sizes.ddp_d_in, d_sae=sizes.ddp_d_sae))
        if arch == "relu":  # an eighth of the latents never fire, so resampling has work at its first chance
            with torch.no_grad():
                sae.b_enc[: sizes.ddp_d_sae // 8] = -1e4
        t = time.perf_counter()
        result = sw.train(
            sae,
            acts,
            n_tokens=sizes.ddp_steps * batch,
            batch_size=batch,
            log_every=sizes.ddp_steps,
            progress=False,
            **extra,
            **kwargs,
        )
        seconds += time.perf_counter() - t
        finite &= math.isfinite(result.history[-1]["loss"])
        for name, value in result.sae.state_dict().items():
            mine = value.detach().float().flatten().to(device)  # [numel]
            ref = mine.clone()
            dist.broadcast(ref, src=0)
            diff = (mine - ref).abs().max() if mine.numel() else torch.zeros((), device=device)
            dist.all_reduce(diff, op=dist.ReduceOp.MAX)
            diffs[f"{arch}.{name}"] = float(diff)
    if rank == 0:
        numbers = {
            "backend": sizes.ddp_backend,
            "world": world,
            "d_in": sizes.ddp_d_in,
            "d_sae": sizes.ddp_d_sae,
            "global_batch": batch,
            "steps": sizes.ddp_steps,
            "finite": finite,
            "tokens_per_s": len(recipes) * sizes.ddp_steps * batch / seconds,
            "max_replica_diff": diffs,
        }
        _write_json(Path(out), numbers)
    dist.barrier()  # nobody tears the group down while rank 0 still writes
    dist.destroy_process_group()


def check_generate(ctx: Context) -> Result:
    """5. harvest -> train -> steer on the bundled model, on the device, with saewidgets.steering.generate."""
    import saewidgets as sw
    from saewidgets.steering import generate

    s = ctx.sizes
    model = ctx.model if ctx.model is not None else sw.load_model("storyteller")
    corpus = sw.load_corpus("storyteller", n_docs=max(64, s.harvest_tokens // 60), seed=0)
    t = time.perf_counter()
    acts = sw.harvest(model, corpus, HOOK, n_tokens=s.harvest_tokens, progress=False)
    harvest_s = time.perf_counter() - t
    torch.manual_seed(0)
    sae = sw.build_sae(sw.SAEConfig("topk", d_in=acts.d_in, d_sae=s.steer_d_sae, k=16))
    sae = sw.train(
        sae,
        acts,
        n_tokens=s.steer_steps * s.steer_batch,
        batch_size=s.steer_batch,
        progress=False,
        log_every=s.steer_steps,
        **_train_kwargs(ctx),
    ).sae
    device = sae.W_dec.device
    with torch.no_grad():  # steer with the most used latent, adding 4x a typical residual's norm along it
        sample = acts.acts[:4096].to(device)  # [n, d_in]
        latent = int((sae.encode(sample) > 0).float().mean(0).argmax())
        strength = 4 * float(sample.norm(dim=1).mean() / sae.W_dec[latent].norm())
    timed = {}

    def timed_generate(key: str, **kw) -> str:
        _sync(device)
        t = time.perf_counter()
        text = generate(model, PROMPT, max_new_tokens=s.new_tokens, temperature=0.0, **kw)
        _sync(device)
        timed[key] = time.perf_counter() - t
        return text

    timed_generate("warm-up")  # the first call pays one-off costs (kernels, caches)
    plain = timed_generate("unsteered")
    steered = timed_generate("steered", sae=sae, hook=HOOK, strengths={latent: strength})
    n_sentences = count_sentences(plain)
    problems = []
    if n_sentences < 3:
        problems.append(f"the unsteered greedy text has {n_sentences} sentences (< 3): {plain[:160]!r}")
    if steered == plain:
        problems.append(f"steering latent {latent} at {strength:.1f} did not change the text")
    model_dev = next(model.parameters()).device
    if model_dev.type != s.device:
        problems.append(f"the model ran on {model_dev}, not {s.device}")
    detail = (
        f"harvest {len(acts) / harvest_s / 1e3:,.0f}k tok/s; {s.new_tokens} new tokens in "
        f"{timed['unsteered'] * 1e3:,.0f} ms unsteered, {timed['steered'] * 1e3:,.0f} ms steered; "
        f"{n_sentences} sentences; steered differs"
    )
    return Result(
        "generate",
        not problems,
        "; ".join(problems) or detail,
        numbers={
            "harvest_tokens_per_s": len(acts) / harvest_s,
            "unsteered_s": timed["unsteered"],
            "steered_s": timed["steered"],
            "new_tokens": s.new_tokens,
            "sentences": n_sentences,
            "latent": latent,
            "strength": strength,
            "unsteered": plain,
            "steered": steered,
        },
    )


def count_sentences(text: str) -> int:
    """Complete sentences: runs ending in . ! or ? (a closing quote allowed) that start with a capital or a
    quote. "Once upon a time, Jack built a cottage that in Finn shared a the the the" holds none."""
    pieces = re.split(r"(?<=[.!?])\s+|(?<=[.!?]\")\s+", text.strip())
    return sum(1 for p in pieces if re.search(r"[.!?]\"?$", p) and (p[0].isupper() or p[0] == '"'))


# ------------------------------------------------------------------------------------------------- running


def run_check(name: str, fn, *args) -> Result:
    """Run one check; an exception is that check's failure (with its message), not the end of the run."""
    t = time.perf_counter()
    try:
        result = fn(*args)
    except Exception as e:  # noqa: BLE001 - every failure becomes a row of the table
        traceback.print_exc(file=sys.stderr)
        result = Result(name, False, f"{type(e).__name__}: {e}"[:300])
    result.seconds = time.perf_counter() - t
    print(f"  {'ok  ' if result.ok else 'FAIL'} {result.name:<16} {result.seconds:6.1f} s", flush=True)
    return result


def summary(results: list[Result], total: float) -> str:
    lines = [f"{'check':<16} {'result':<6} {'seconds':>7}  details"]
    lines += [f"{r.name:<16} {'PASS' if r.ok else 'FAIL':<6} {r.seconds:7.1f}  {r.detail}" for r in results]
    failed = sum(not r.ok for r in results)
    lines.append(
        f"{'total':<16} {'PASS' if not failed else 'FAIL':<6} {total:7.1f}  "
        f"{len(results) - failed} of {len(results)} checks passed"
    )
    return "\n".join(lines)


def exit_code(results: list[Result]) -> int:
    return 0 if results and all(r.ok for r in results) else 1


def _write_json(path: Path, data: dict) -> None:
    """Atomic: a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--cpu-smoke", action="store_true", help="toy sizes on the CPU: fp32, gloo, no bf16 claims"
    )
    p.add_argument("--json", type=Path, help="write every number measured to this file")
    p.add_argument(
        "--autocast",
        choices=("auto", "bf16", "off"),
        default="auto",
        help="TrainConfig.autocast for every training run (default: the library's own, auto)",
    )
    for name in ("d_in", "d_sae", "batch", "steps"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, help=f"override the training checks' {name}")
    p.add_argument("--ddp-worker", metavar="OUT", help=argparse.SUPPRESS)  # one torchrun process of check 4
    args = p.parse_args(argv)
    overrides = {k: v for k in ("d_in", "d_sae", "batch", "steps") if (v := getattr(args, k)) is not None}
    sizes = dataclasses.replace(SMOKE if args.cpu_smoke else GPU, **overrides)
    # what the DDP workers need to see the same sizes and options
    worker_args = [
        "--autocast",
        args.autocast,
        *(["--cpu-smoke"] if args.cpu_smoke else []),
        *(f"--{k.replace('_', '-')}={v}" for k, v in overrides.items()),
    ]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # only the bundled model is used
    if args.ddp_worker:
        ddp_worker(args.ddp_worker, sizes, args.autocast)
        return 0
    if not args.cpu_smoke and not torch.cuda.is_available():
        print(NO_GPU, file=sys.stderr)
        return 2
    ctx = Context(sizes, args.autocast)
    t0 = time.perf_counter()
    mode = "CPU smoke run" if args.cpu_smoke else "CUDA"
    print(f"saewidgets GPU check ({mode}; torch {torch.__version__})")
    results = [run_check("device", check_device, ctx), run_check("matmul", check_matmul, ctx)]
    results += [run_check(f"train/{arch}", check_train, ctx, arch) for arch in ARCHITECTURES]
    results += [run_check("gradients", check_gradients, ctx)]
    results += [run_check("ddp", check_ddp, ctx, worker_args), run_check("generate", check_generate, ctx)]
    total = time.perf_counter() - t0
    print(summary(results, total))
    if args.json:
        _write_json(
            args.json,
            {
                "mode": "cpu-smoke" if args.cpu_smoke else "cuda",
                "torch": torch.__version__,
                "autocast": args.autocast,
                "ok": exit_code(results) == 0,
                "total_seconds": total,
                "flop_per_token": "12 * d_in * d_sae",
                "checks": [r.__dict__ for r in results],
            },
        )
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
