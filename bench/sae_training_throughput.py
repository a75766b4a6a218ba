"""SAE training throughput against the machine's own matmul throughput, measured in the same run.

    python bench/sae_training_throughput.py [--d-in 256] [--d-sae 4096] [--batch 4096] [--steps 12]

Prints four ratios (the machine is noisy, so each side is timed in alternating rounds and the
median is kept):
  (a) dense ReLU training step vs the matmul bound: 12 * d_in * d_sae FLOP per token (the six GEMMs
      of forward + backward) at the GEMM rate this machine reaches on exactly those shapes;
  (b) bf16 autocast vs fp32 tokens/s, and the final FVU of each (same data, same seed);
  (c) TopK (k = 32) vs dense ReLU tokens/s at the same shapes;
  (d) an 8-point ReLU sweep in one pass vs the matmul bound for the combined FLOPs, and vs 8 separate runs;
      and what batching the sweep's weights into one bmm could save on this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch

from saewidgets.activation_set import ActivationSet
from saewidgets.config import SAEConfig
from saewidgets.sae import build_sae
from saewidgets.training import train_sweep


def gemm_seconds_per_step(d_in: int, d_sae: int, batch: int, dtype=torch.float32, reps: int = 5) -> float:
    """Time of the six GEMMs of one SAE step at these shapes: the roofline the step is measured against.

    Outputs are written into buffers allocated once, so this times the GEMMs alone (a fresh 64 MB output per
    call would add the page faults of new memory, which the training loop avoids: host_memory.py)."""
    x, g = torch.randn(batch, d_in, dtype=dtype), torch.randn(batch, d_in, dtype=dtype)  # [batch, d_in]
    w_enc, w_dec = torch.randn(d_in, d_sae, dtype=dtype), torch.randn(d_sae, d_in, dtype=dtype)
    a = torch.randn(batch, d_sae, dtype=dtype)  # [batch, d_sae]
    pre, ga = torch.empty_like(a), torch.empty_like(a)  # [batch, d_sae]
    recon, gx = torch.empty_like(x), torch.empty_like(x)  # [batch, d_in]
    g_dec, g_enc = torch.empty_like(w_dec), torch.empty_like(w_enc)
    times = []
    for _ in range(reps + 1):
        t = time.perf_counter()
        torch.mm(x, w_enc, out=pre)  # pre
        torch.mm(a, w_dec, out=recon)  # recon
        torch.mm(a.t(), g, out=g_dec)  # dW_dec
        torch.mm(g, w_dec.t(), out=ga)  # d acts
        torch.mm(x.t(), ga, out=g_enc)  # dW_enc
        torch.mm(ga, w_enc.t(), out=gx)  # d x
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])


def stacked_gemm_share(d_in: int, d_sae: int, batch: int, n: int = 8, reps: int = 5) -> float:
    """Time of n SAEs' forward GEMMs as one bmm over stacked weights, as a share of n separate GEMMs: what
    batching a sweep's weights could save, at most, on this machine."""
    x = torch.randn(batch, d_in)  # [batch, d_in], the batch every SAE of a sweep sees
    w_enc, w_dec = torch.randn(n, d_in, d_sae), torch.randn(n, d_sae, d_in)  # stacked weights
    a = torch.randn(n, batch, d_sae)  # [n, batch, d_sae]
    pre, recon = torch.empty(n, batch, d_sae), torch.empty(n, batch, d_in)

    def separate():
        for i in range(n):
            torch.mm(x, w_enc[i], out=pre[i])
            torch.mm(a[i], w_dec[i], out=recon[i])

    def stacked():
        torch.bmm(x.expand(n, batch, d_in), w_enc, out=pre)
        torch.bmm(a, w_dec, out=recon)

    times: dict = {separate: [], stacked: []}
    for _ in range(reps + 1):
        for f in times:
            t = time.perf_counter()
            f()
            times[f].append(time.perf_counter() - t)
    return statistics.median(times[stacked][1:]) / statistics.median(times[separate][1:])


@contextlib.contextmanager
def plain_encoder():
    """The encoder through plain autograd instead of _kernels.py's column-sum backward, for comparison."""
    from saewidgets import sae

    saved = sae.centered_affine
    sae.centered_affine = lambda x, b_dec, W, b, center=True: torch.addmm(b, x - b_dec if center else x, W)
    try:
        yield
    finally:
        sae.centered_affine = saved


def synthetic(d_in: int, n: int, seed: int = 0) -> ActivationSet:
    """Gaussian activations with some low-rank structure, normalised like harvested ones."""
    gen = torch.Generator().manual_seed(seed)
    basis = torch.randn(64, d_in, generator=gen)
    x = torch.relu(torch.randn(n, 64, generator=gen)) @ basis + 0.1 * torch.randn(n, d_in, generator=gen)
    zeros = torch.zeros(n, dtype=torch.long)
    return ActivationSet(
        x,
        zeros,
        zeros,
        zeros,
        hook="synthetic",
        model_name="synthetic",
        norm_scale=float(d_in**0.5 / x.norm(dim=1).mean()),
    )


def run(arch: str, acts, args, n: int = 1, **kw) -> tuple[float, list]:
    torch.manual_seed(0)
    extra = {"topk": {"k": args.k}}.get(arch, {})
    saes = [build_sae(SAEConfig(arch, d_in=args.d_in, d_sae=args.d_sae, **extra)) for _ in range(n)]
    # One history row, at the end: logging computes extra statistics that a real run pays rarely.
    t = time.perf_counter()
    results = train_sweep(
        saes,
        acts,
        n_tokens=args.steps * args.batch,
        batch_size=args.batch,
        log_every=args.steps,
        progress=False,
        init_b_dec=False,
        **kw,
    )
    return args.steps * args.batch / (time.perf_counter() - t), results  # tokens/s (each seen by n SAEs)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--d-in", type=int, default=256)
    p.add_argument("--d-sae", type=int, default=4096)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--k", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--fvu-steps", type=int, default=150, help="steps of the bf16-vs-fp32 fidelity runs")
    args = p.parse_args()
    d, s, b = args.d_in, args.d_sae, args.batch
    acts = synthetic(d, 8 * b)
    flop_per_token = 12 * d * s
    print(
        f"shapes d_in {d}, d_sae {s}, batch {b}; {torch.get_num_threads()} threads; torch {torch.__version__}"
    )

    # Warm up first: the process's first steps pay one-off costs (thread pools, kernel selection, first touches of
    # memory) that would otherwise land on whichever contender runs first.
    warm = argparse.Namespace(**vars(args) | {"steps": 2})
    for arch, autocast in (("relu", "off"), ("relu", "bf16"), ("topk", "off")):
        run(arch, acts, warm, autocast=autocast)
    # Every round times each contender once, so a slow spell of the machine hits all of them; medians are kept.
    rates: dict[str, list[float]] = {key: [] for key in ("bound", "fp32", "plain", "bf16", "topk", "sweep")}
    for _ in range(args.rounds):
        rates["bound"].append(b / gemm_seconds_per_step(d, s, b))  # tokens/s if only the GEMMs cost time
        rates["fp32"].append(run("relu", acts, args, autocast="off")[0])
        with plain_encoder():
            rates["plain"].append(run("relu", acts, args, autocast="off")[0])
        rates["bf16"].append(run("relu", acts, args, autocast="bf16")[0])
        rates["topk"].append(run("topk", acts, args)[0])
        rates["sweep"].append(8 * run("relu", acts, args, n=8, autocast="off")[0])  # SAE-tokens/s
    med = {key: statistics.median(values) for key, values in rates.items()}

    def ratio(key: str, base: str) -> float:  # median over rounds of the ratio within each round
        return statistics.median(x / y for x, y in zip(rates[key], rates[base]))

    bound = med["bound"]
    print(f"matmul bound: {bound:,.0f} tokens/s ({bound * flop_per_token / 1e9:.0f} GFLOP/s on these shapes)")
    print(
        f"(a) dense ReLU step: {med['fp32']:,.0f} tokens/s = {ratio('fp32', 'bound'):.3f} of the matmul bound "
        f"(target >= 0.90); with a plain-autograd encoder (a sixth GEMM for b_dec's gradient, _kernels.py): "
        f"{ratio('plain', 'bound'):.3f}"
    )

    # Fidelity of bf16 needs a run long enough to learn something: d_sae / 4 and more steps.
    long = argparse.Namespace(**vars(args) | {"d_sae": args.d_sae // 4, "steps": args.fvu_steps})
    f32 = run("relu", acts, long, autocast="off", lr=1e-3)[1][0].history[-1]["fvu"]
    f16 = run("relu", acts, long, autocast="bf16", lr=1e-3)[1][0].history[-1]["fvu"]
    print(
        f"(b) bf16 autocast: {med['bf16']:,.0f} vs fp32 {med['fp32']:,.0f} tokens/s = {ratio('bf16', 'fp32'):.2f}x "
        f"(target >= 1.5x); final FVU after {args.fvu_steps} steps at d_sae {long.d_sae}: bf16 {f16:.6f} vs fp32 "
        f"{f32:.6f} ({abs(f16 - f32) / f32:.2%} relative, target <= 2 %)"
    )
    print(
        f"(c) TopK k={args.k}: {med['topk']:,.0f} tokens/s = {ratio('topk', 'fp32'):.2f}x dense (target >= 2x)"
    )
    # 8 separate runs take 8x one run's time: the sweep's share of that is fp32 rate * 8 / (sweep rate * 8)
    print(
        f"(d) 8-point sweep in one pass: {med['sweep']:,.0f} SAE-tokens/s = {ratio('sweep', 'bound'):.3f} of the "
        f"matmul bound (target >= 0.85); {1 / ratio('sweep', 'fp32'):.2f} of the time of 8 separate runs"
    )
    print(
        f"    batched weights: 8 SAEs' forward GEMMs as one bmm take {stacked_gemm_share(d, s, b):.2f} of the time "
        "of 8 GEMMs here (what stacking a sweep's weights could save at most)"
    )


if __name__ == "__main__":
    main()
