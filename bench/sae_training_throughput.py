"""SAE training throughput against the machine's own matmul throughput, measured in the same run.

    python bench/sae_training_throughput.py [--d-in 256] [--d-sae 4096] [--batch 4096] [--steps 12]

Prints four ratios (the machine is noisy, so each side is timed in alternating rounds and the
median is kept):
  (a) dense ReLU training step vs the matmul bound: 12 * d_in * d_sae FLOP per token (the six GEMMs
      of forward + backward) at the GEMM rate this machine reaches on exactly those shapes;
  (b) bf16 autocast vs fp32 tokens/s, and the final FVU of each (same data, same seed);
  (c) TopK (k = 32) vs dense ReLU tokens/s at the same shapes;
  (d) an 8-point ReLU sweep in one pass vs the matmul bound for the combined FLOPs, and vs 8 separate runs.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch

from saewidgets.activations import ActivationSet
from saewidgets.config import SAEConfig
from saewidgets.sae import build_sae
from saewidgets.training import train_sweep


def gemm_seconds_per_step(d_in: int, d_sae: int, batch: int, dtype=torch.float32, reps: int = 5) -> float:
    """Time of the six GEMMs of one SAE step at these shapes: the roofline the step is measured against."""
    x, g = torch.randn(batch, d_in, dtype=dtype), torch.randn(batch, d_in, dtype=dtype)  # [batch, d_in]
    w_enc, w_dec = torch.randn(d_in, d_sae, dtype=dtype), torch.randn(d_sae, d_in, dtype=dtype)
    a = torch.randn(batch, d_sae, dtype=dtype)  # [batch, d_sae]
    times = []
    for _ in range(reps + 1):
        t = time.perf_counter()
        torch.mm(x, w_enc)  # pre [batch, d_sae]
        torch.mm(a, w_dec)  # recon [batch, d_in]
        torch.mm(a.t(), g)  # dW_dec [d_sae, d_in]
        ga = torch.mm(g, w_dec.t())  # d acts [batch, d_sae]
        torch.mm(x.t(), ga)  # dW_enc [d_in, d_sae]
        torch.mm(ga, w_enc.t())  # d x [batch, d_in]
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])


@contextlib.contextmanager
def plain_encoder():
    """The encoder through plain autograd instead of affine.py's column-sum backward, for comparison."""
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
    return ActivationSet(x, zeros, zeros, zeros, hook="synthetic", model_name="synthetic",
                         norm_scale=float(d_in**0.5 / x.norm(dim=1).mean()))


def run(arch: str, acts, args, n: int = 1, **kw) -> tuple[float, list]:
    torch.manual_seed(0)
    extra = {"topk": {"k": args.k}}.get(arch, {})
    saes = [build_sae(SAEConfig(arch, d_in=args.d_in, d_sae=args.d_sae, **extra)) for _ in range(n)]
    # One history row, at the end: logging computes extra statistics that a real run pays rarely.
    t = time.perf_counter()
    results = train_sweep(saes, acts, n_tokens=args.steps * args.batch, batch_size=args.batch,
                          log_every=args.steps, progress=False, init_b_dec=False, **kw)
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
    print(f"shapes d_in {d}, d_sae {s}, batch {b}; {torch.get_num_threads()} threads; torch {torch.__version__}")

    a_ratios, bounds, dense_rates, plain_ratios = [], [], [], []
    for _ in range(args.rounds):
        bound = b / gemm_seconds_per_step(d, s, b)  # tokens/s if only the GEMMs cost time
        rate, _ = run("relu", acts, args)
        with plain_encoder():
            plain_rate, _ = run("relu", acts, args)
        bounds.append(bound)
        dense_rates.append(rate)
        a_ratios.append(rate / bound)
        plain_ratios.append(plain_rate / bound)
    bound = statistics.median(bounds)
    print(f"matmul bound: {bound:,.0f} tokens/s ({bound * flop_per_token / 1e9:.0f} GFLOP/s on these shapes)")
    print(f"(a) dense ReLU step: {statistics.median(dense_rates):,.0f} tokens/s = "
          f"{statistics.median(a_ratios):.3f} of the matmul bound (target >= 0.90); with a plain-autograd encoder "
          f"(a sixth GEMM for b_dec's gradient, affine.py): {statistics.median(plain_ratios):.3f}")

    fp32_rate, _ = run("relu", acts, args, autocast="off")
    bf16_rate, _ = run("relu", acts, args, autocast="bf16")
    # Fidelity of bf16 needs a run long enough to learn something: d_sae / 4 and more steps.
    long = argparse.Namespace(**vars(args) | {"d_sae": args.d_sae // 4, "steps": args.fvu_steps})
    f32 = run("relu", acts, long, autocast="off", lr=1e-3)[1][0].history[-1]["fvu"]
    f16 = run("relu", acts, long, autocast="bf16", lr=1e-3)[1][0].history[-1]["fvu"]
    print(f"(b) bf16 autocast: {bf16_rate:,.0f} vs fp32 {fp32_rate:,.0f} tokens/s = {bf16_rate / fp32_rate:.2f}x "
          f"(target >= 1.5x); final FVU after {args.fvu_steps} steps at d_sae {long.d_sae}: bf16 {f16:.6f} vs fp32 "
          f"{f32:.6f} ({abs(f16 - f32) / f32:.2%} relative, target <= 2 %)")

    topk_rate, _ = run("topk", acts, args)
    print(f"(c) TopK k={args.k}: {topk_rate:,.0f} tokens/s = {topk_rate / statistics.median(dense_rates):.2f}x "
          f"dense (target >= 2x)")

    sweep_rate, _ = run("relu", acts, args, n=8)  # steps/s of the whole sweep x batch
    separate = 8 / statistics.median(dense_rates)  # seconds per token for 8 separate runs
    print(f"(d) 8-point sweep in one pass: {sweep_rate * 8:,.0f} SAE-tokens/s = {sweep_rate * 8 / bound:.3f} of the "
          f"matmul bound (target >= 0.85); {1 / (sweep_rate / 1) / separate:.2f} of the time of 8 separate runs")


if __name__ == "__main__":
    main()
