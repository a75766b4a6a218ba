"""One training loop for every SAE architecture: ``train(sae, activations, cfg)``.

Adam with LR warm-up and decay, a sparsity-coefficient warm-up, gradient clipping, input
normalisation (folded into the weights at the end and recorded as ``SAEConfig.input_scale``, so a
trained or loaded SAE continues in the space it was trained in), dead-latent tracking over a window
of tokens (feeding AuxK / the pre-activation loss), optional resampling for ReLU SAEs, a history
and a per-log-step callback, exact resume from checkpoints (a sweep's SAEs are saved together, at
one step), and Ctrl-C that returns the SAE and history so far. Any other failure (NaN/inf in the
activations, say) leaves the caller's SAEs as they were passed in. Data-parallel over processes with
torch.distributed (DDP) when initialised.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from . import _checkpoint as checkpoint
from ._devices import default_device
from ._host_memory import reuse_freed_memory
from .config import TrainConfig
from .sae import SAE, SAEOutput


class TrainResult(NamedTuple):
    sae: SAE
    """The trained SAE, reading raw (unnormalised) activations, in eval mode; ``sae.cfg.input_scale`` is the scale
    it was trained at (the same object as the one passed in, with its ``cfg`` replaced)."""
    history: list[dict]
    """One row per ``log_every`` steps: step, tokens, lr, sparsity_scale, loss terms, l0, fvu, dead_fraction."""
    interrupted: bool
    """True when Ctrl-C (KeyboardInterrupt) stopped the run early; the SAE is the one trained so far."""


class _Step(nn.Module):
    """Forward + loss as one module, so DistributedDataParallel sees every parameter's use."""

    def __init__(self, sae: SAE):
        super().__init__()
        self.sae = sae

    def forward(self, x, sparsity_scale: float, dead_mask):
        out = self.sae(x)
        return out, self.sae.loss(x, sparsity_scale, dead_mask, out=out)


def train(
    sae: SAE,
    activations,
    cfg: TrainConfig | None = None,
    *,
    callback: Callable[[dict], None] | None = None,
    progress: bool | None = None,
    resume: bool = True,
    **overrides,
) -> TrainResult:
    """Train ``sae`` on ``activations`` and return a TrainResult.

    ``activations``: an ActivationSet, CachedActivations, or a plain ``[n, d_in]`` tensor of raw activations
    (its norm_scale is measured as ``harvest`` does). ``cfg`` fields can also be given as keywords:
    ``train(sae, acts, n_tokens=1_000_000, lr=1e-3)``. With ``checkpoint_dir`` set and ``resume``, a run picks up
    exactly where a saved checkpoint left off. An SAE that was trained before (``sae.cfg.input_scale`` set, e.g.
    a ``train`` result or a ``load_sae``-ed SAE) continues at its own scale, keeping its b_dec. If training fails
    (anything but Ctrl-C, which returns what was trained so far), ``sae`` is left exactly as it was.
    """
    return train_sweep(
        [sae], activations, cfg, callback=callback, progress=progress, resume=resume, **overrides
    )[0]


def train_sweep(
    saes: list[SAE],
    activations,
    cfg: TrainConfig | None = None,
    *,
    callback: Callable[[dict], None] | None = None,
    progress: bool | None = None,
    resume: bool = True,
    **overrides,
) -> list[TrainResult]:
    """Train several SAEs (e.g. a list of sparsity coefficients) in one pass over one activation stream.

    Every batch is read, shuffled and normalised once and handed to each SAE in turn, so a sweep costs
    one data pass instead of one per SAE. History rows carry ``"sae"``: the SAE's index in ``saes``.
    Checkpoints go to ``checkpoint_dir/sae_<i>``, all SAEs at the same step in one atomic write, so an
    interrupted sweep resumes exactly.
    """
    cfg = dataclasses.replace(cfg or TrainConfig(), **overrides) if overrides else (cfg or TrainConfig())
    if not saes:
        raise ValueError("train_sweep needs at least one SAE")
    activations = _as_activations(activations)
    for sae in saes:
        if activations.d_in != sae.cfg.d_in:
            raise ValueError(
                f"The activations have d_in={activations.d_in} but the SAE expects d_in={sae.cfg.d_in}: "
                "harvest from the hook the SAE was built for, or build SAEConfig(d_in=...) to match."
            )
    rank, world = _distributed()
    if cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} must divide evenly over {world} processes")
    device = torch.device(cfg.device) if cfg.device else default_device()
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    kept = [_Kept(sae) for sae in saes]
    try:
        runs = [_Run(sae, i, len(saes), activations, cfg, device, resume) for i, sae in enumerate(saes)]
        show = progress if progress is not None else cfg.steps * len(runs) >= 200 and rank == 0
        interrupted = _loop(runs, activations, cfg, callback, show)
    except BaseException:  # (Ctrl-C inside the loop is caught there: it returns the SAEs trained so far)
        for k in kept:
            k.restore()
        raise
    del kept
    results = [run.finish(interrupted) for run in runs]
    del runs  # the DDP wrappers and their gradient reducers go now, while the process group is alive
    if world > 1 and not interrupted:
        # leave together: a rank that exits (and tears gloo down) while another still has a collective in
        # flight with it aborts with "terminate called without an active exception"
        torch.distributed.barrier()
    return results


def _loop(runs: list[_Run], activations, cfg: TrainConfig, callback, show: bool) -> bool:
    """Step every run on each batch of one shared stream up to cfg.steps; True if Ctrl-C stopped it."""
    rank, world = _distributed()
    start = runs[0].start
    if any(run.start != start for run in runs):
        raise ValueError(
            f"The sweep's checkpoints in {cfg.checkpoint_dir} stopped at different steps "
            f"({[run.start for run in runs]}): an older saewidgets saved each SAE on its own. "
            "Delete checkpoint_dir to restart."
        )
    local, device = cfg.batch_size // world, runs[0].device
    batches = _stream(activations, cfg.batch_size, cfg.seed, start)
    bar = _bar(cfg.steps * len(runs), start * len(runs), show)
    t0 = (
        time.time()
    )  # after the optimisers are built: torch's first Adam() in a process imports dynamo (~2 s)
    # CPU: each step's [batch, d_sae] tensors reuse the last step's freed pages instead of fresh zero-filled
    # ones (host_memory.py; page faults were a fifth of a step at bench/'s shapes)
    with reuse_freed_memory(device.type == "cpu"):
        try:
            for step in range(start, cfg.steps):
                batch = next(
                    batches
                )  # [batch, d_in]: every process checks the whole batch, so all stop together
                _check_finite(batch, step, activations)
                raw = batch[rank * local : (rank + 1) * local].to(device, torch.float32)  # [local, d_in]
                scaled: dict[
                    float, torch.Tensor
                ] = {}  # scale -> [local, d_in]; SAEs trained before keep their own
                for run in runs:
                    if run.scale not in scaled:
                        scaled[run.scale] = raw * run.scale
                    row = run.step(scaled[run.scale], step, t0)
                    if row is not None:
                        bar.set_postfix(
                            l0=f"{row['l0']:.1f}", fvu=f"{row['fvu']:.3f}", dead=f"{row['dead_fraction']:.2f}"
                        )
                        if callback is not None and rank == 0:
                            callback(row)
                    bar.update(1)
                if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and rank == 0:
                    # after every SAE has taken this step, all of them in one atomic write: Ctrl-C inside a
                    # later SAE's step then finds every SAE's checkpoint at the same step
                    checkpoint.save(cfg.checkpoint_dir, [run.checkpoint_part(step + 1) for run in runs])
        except KeyboardInterrupt:
            return True
        finally:
            bar.close()
    return False


class _Kept:
    """A caller's SAE as it was passed in (values, device, train/eval mode, cfg), to put back if training fails:
    a failed run must leave neither a NaN b_dec nor a half-trained SAE in normalised space behind."""

    def __init__(self, sae: SAE):
        self.sae, self.cfg, self.training = sae, sae.cfg, sae.training
        self.device = next(sae.parameters()).device
        self.state = {k: v.detach().clone() for k, v in sae.state_dict().items()}

    @torch.no_grad()
    def restore(self) -> None:
        self.sae.to(self.device).load_state_dict(self.state)
        for p in self.sae.parameters():
            p.grad = None
        self.sae.cfg = self.cfg
        self.sae.train(self.training)


class _Run:
    """One SAE's share of a run: its optimiser, dead-latent counters, history and checkpoint part."""

    def __init__(
        self, sae: SAE, index: int, n_saes: int, activations, cfg: TrainConfig, device, resume: bool
    ):
        self.sae, self.index, self.cfg, self.device = sae, index, cfg, device
        self.label = {"sae": index} if n_saes > 1 else {}
        self.folder = "" if n_saes == 1 else f"sae_{index}"  # inside checkpoint_dir
        self.ckpt = str(Path(cfg.checkpoint_dir) / self.folder) if cfg.checkpoint_dir else None
        self.scale = _input_scale(sae, activations, cfg)
        fresh = sae.cfg.input_scale is None
        self.ident = checkpoint.identity(sae.cfg.to_dict(), cfg.to_dict(), self.scale, len(activations))
        sae.to(device).train()
        if not fresh:  # trained before and folded: back to the space it was trained in, to continue there
            _rescale_inputs_(sae, 1.0 / self.scale)
        # JumpReLU thresholds may get their own LR: Adam moves a parameter by about lr per step whatever
        # its gradient, so over a short CPU-sized run theta cannot travel far enough for low L0 (the L0
        # coefficient "saturates"); threshold_lr_scale lets it.
        thresholds = [p for n, p in sae.named_parameters() if n in ("threshold", "log_threshold")]
        others = [p for n, p in sae.named_parameters() if n not in ("threshold", "log_threshold")]
        groups = [{"params": others, "lr_scale": 1.0}]
        if thresholds:
            groups.append({"params": thresholds, "lr_scale": cfg.threshold_lr_scale})
        self.opt = torch.optim.Adam(groups, lr=cfg.lr, betas=cfg.adam_betas)
        self.since_fired = torch.zeros(sae.cfg.d_sae, dtype=torch.long, device=device)  # [d_sae] tokens
        self.gen = torch.Generator().manual_seed(cfg.seed + 1 + index)  # resampling draws
        self.history: list[dict] = []
        self.start = 0
        if resume and checkpoint.exists(self.ckpt):
            loop, meta = checkpoint.load(self.ckpt, sae, self.opt, self.ident)
            self.since_fired.copy_(loop["since_fired"])
            self.gen.set_state(loop["generator"])
            self.start, self.history = meta["step"], meta["history"]
        elif (
            cfg.init_b_dec and fresh
        ):  # from the whole first (global) batch: every process starts from one b_dec
            first = next(_stream(activations, cfg.batch_size, cfg.seed, 0))  # [batch, d_in]
            _check_finite(first, 0, activations)
            init_b_dec_(sae, first.to(device, torch.float32) * self.scale)
        self.module = _Step(sae)
        if _distributed()[1] > 1:  # after any resume or init: DDP broadcasts rank 0's parameters once, here
            self.module = nn.parallel.DistributedDataParallel(self.module)
        self.autocast = cfg.autocast == "bf16" or (cfg.autocast == "auto" and device.type == "cuda")

    def step(self, x: torch.Tensor, step: int, t0: float) -> dict | None:
        """One optimiser step on x [batch, d_in]; returns a history row on logging steps."""
        cfg, sae, opt, steps = self.cfg, self.sae, self.opt, self.cfg.steps
        lr = cfg.lr * _lr_factor(step, steps, cfg)
        for group in opt.param_groups:
            group["lr"] = lr * group["lr_scale"]
        sparsity_scale = min(1.0, (step + 1) / max(1.0, cfg.sparsity_warmup_fraction * steps))
        dead = self.since_fired >= cfg.dead_window_tokens  # [d_sae]
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            out, losses = self.module(x, sparsity_scale, dead)
        losses.total.backward()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(sae.parameters(), cfg.grad_clip)
        sae.before_step()
        opt.step()
        sae.after_step()
        opt.zero_grad(set_to_none=True)
        fired = (
            out.acts.detach().amax(0) > 0
        )  # [d_sae]; amax reads acts once, (acts > 0).any(0) also writes a mask
        if _distributed()[1] > 1:  # every process must agree on which latents are dead
            fired = fired.to(torch.int32)
            torch.distributed.all_reduce(fired, op=torch.distributed.ReduceOp.MAX)
            fired = fired.bool()
        self.since_fired.add_(cfg.batch_size).masked_fill_(fired, 0)
        if cfg.resample_every and sae.cfg.architecture == "relu" and (step + 1) % cfg.resample_every == 0:
            dead = self.since_fired >= cfg.dead_window_tokens
            # from the whole global batch, with one generator state everywhere: every process picks the same
            # inputs, so DDP replicas stay identical (each resampling from its own slice, they drifted apart)
            loss = (out.recon.float() - x).pow(2).sum(-1)  # [local]
            _resample_dead_(sae, opt, _gather_rows(x), _gather_rows(loss), dead, self.gen)
            self.since_fired.masked_fill_(dead, 0)
        row = None
        if (step + 1) % cfg.log_every == 0 or step + 1 == steps:
            row = self.label | _log_row(
                step, cfg, lr, sparsity_scale, losses, x, out, self.since_fired, time.time() - t0
            )
            self.history.append(row)
        return row

    def checkpoint_part(self, step: int) -> checkpoint.Part:
        """This SAE's share of a checkpoint taken after ``step`` steps."""
        return checkpoint.Part(
            self.folder,
            self.sae,
            self.opt,
            {"since_fired": self.since_fired, "generator": self.gen.get_state()},
            {"step": step, "history": self.history, "identity": self.ident},
        )

    def finish(self, interrupted: bool) -> TrainResult:
        self.sae.eval()
        _rescale_inputs_(self.sae, self.scale)  # the returned SAE reads raw activations ...
        self.sae.cfg = dataclasses.replace(
            self.sae.cfg, input_scale=self.scale
        )  # ... and says what it trained at
        return TrainResult(self.sae, self.history, interrupted)


def _distributed() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _stream(activations, batch_size: int, seed: int, start_step: int) -> Iterator[torch.Tensor]:
    """Endless shuffled batches, epoch e in the order of seed + e; starts at batch ``start_step``."""
    per_epoch = len(activations) // batch_size
    if per_epoch == 0:
        raise ValueError(
            f"There are {len(activations)} activations, fewer than one batch of {batch_size}: "
            "harvest more tokens or lower batch_size."
        )
    epoch, skip = divmod(start_step, per_epoch)
    while True:
        for i, x in enumerate(
            activations.batches(batch_size, shuffle=True, seed=seed + epoch, drop_last=True)
        ):
            if i >= skip:
                yield x  # [batch_size, d_in]
        epoch, skip = epoch + 1, 0


def _as_activations(activations):
    """ActivationSet / CachedActivations as they are; a plain [n, d_in] tensor (or numpy array) of raw activations
    as an ActivationSet with no token, document or position ids (-1) and harvest's norm_scale."""
    if hasattr(activations, "batches"):
        return activations
    x = torch.from_numpy(activations) if isinstance(activations, np.ndarray) else activations
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or not x.is_floating_point():
        what = f"a {x.dim()}-D {x.dtype} tensor" if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(
            f"train needs an ActivationSet, CachedActivations or a [n, d_in] float tensor; got {what}"
        )
    from .activation_set import ActivationSet  # activation_set.py sits above training.py (DESIGN.md layers)

    x = x.detach()
    unknown = torch.full((len(x),), -1, dtype=torch.long)  # [n]
    mean_norm = float(
        torch.linalg.vector_norm(x, dim=1, dtype=torch.float64).mean()
    )  # as harvest measures it
    return ActivationSet(
        x,
        unknown,
        unknown,
        unknown,
        hook="",
        model_name="",
        norm_scale=math.sqrt(x.shape[1]) / mean_norm if mean_norm > 0 else float("nan"),
    )


def _input_scale(sae: SAE, activations, cfg: TrainConfig) -> float:
    """The s this SAE trains on x * s at: the one it recorded if it was trained before (so that training continues
    in the same space), else the activations' norm_scale (cfg.normalize) or 1."""
    if sae.cfg.input_scale is not None:
        return float(sae.cfg.input_scale)
    scale = float(activations.norm_scale) if cfg.normalize else 1.0
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(
            f"The activations' norm_scale is {scale}, so they cannot be normalised"
            f"{_where_non_finite(activations) or ' (are they all zero?)'}. Drop the bad rows, or train "
            "with normalize=False."
        )
    return scale


def _check_finite(x: torch.Tensor, step: int, activations) -> None:
    """Refuse a batch holding NaN/inf before any SAE steps on it, saying where in the activations they are."""
    bad = ~torch.isfinite(x)  # [batch, d_in]
    if bool(bad.any()):
        raise ValueError(
            f"The activation batch at step {step} holds {int(bad.sum())} NaN/inf values"
            f"{_where_non_finite(activations)}. Check the model's activations (e.g. fp16 overflow) or "
            "drop those rows. The SAE is left as it was passed in."
        )


def _where_non_finite(activations) -> str:
    """Where NaN/inf rows are ("; 3 row(s) of the activations hold NaN/inf: row 5 (document 2), ..."), from one
    unshuffled pass: only run once a problem has been found."""
    first: list[int] = []
    count = offset = 0
    for x in activations.batches(65_536, shuffle=False):  # [rows, d_in]
        bad = (~torch.isfinite(x)).any(1).nonzero().squeeze(1) + offset  # [n_bad] row indices
        first += bad[: 5 - len(first)].tolist()
        count, offset = count + len(bad), offset + len(x)
    if not count:
        return ""
    doc_ids = getattr(activations, "doc_ids", None)
    rows = [
        f"row {r}" + (f" (document {int(doc_ids[r])})" if doc_ids is not None and doc_ids[r] >= 0 else "")
        for r in first
    ]
    return f"; {count} row(s) of the activations hold NaN/inf: {', '.join(rows)}{', ...' if count > len(first) else ''}"


def _gather_rows(t: torch.Tensor) -> torch.Tensor:
    """[local, ...] on each process -> the [batch, ...] global batch, in rank order, on every process."""
    world = _distributed()[1]
    if world == 1:
        return t
    parts = [torch.empty_like(t) for _ in range(world)]
    torch.distributed.all_gather(parts, t.contiguous())
    return torch.cat(parts)


def _lr_factor(step: int, steps: int, cfg: TrainConfig) -> float:
    warmup = int(cfg.lr_warmup_fraction * steps)
    decay = int(cfg.lr_decay_fraction * steps)
    if step < warmup:
        return (step + 1) / warmup
    if decay and step >= steps - decay:
        return (steps - step) / decay
    return 1.0


def _log_row(step, cfg, lr, sparsity_scale, losses, x, out: SAEOutput, since_fired, seconds) -> dict:
    with torch.no_grad():
        err = (out.recon.float() - x).pow(2).sum()
        var = (x - x.mean(0)).pow(2).sum()
        return {
            "step": step + 1,
            "tokens": (step + 1) * cfg.batch_size,
            "lr": lr,
            "sparsity_scale": sparsity_scale,
            "loss": float(losses.total),
            "mse": float(losses.mse),
            "sparsity": float(losses.sparsity),
            "aux": float(losses.aux),
            "l0": float((out.acts > 0).sum(-1).float().mean()),
            "fvu": float(err / var),
            "dead_fraction": float((since_fired >= cfg.dead_window_tokens).float().mean()),
            "seconds": round(seconds, 3),
        }


def _bar(total: int, start: int, show: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=start, disable=not show, unit="step", desc="train", mininterval=1.0)


def fold_input_scale_(sae: SAE, scale: float) -> None:
    """Make an SAE trained on x * scale read raw x, with identical latents, and record it: ``sae.cfg`` becomes a
    copy with ``input_scale`` = scale (times any input_scale it had), so training it again continues at that scale.

    ``pre = (s x - b_dec) W_enc + b_enc = (x - b_dec / s)(s W_enc) + b_enc``, and the raw reconstruction
    is ``(acts W_dec + b_dec) / s``: so ``W_enc *= s, W_dec /= s, b_dec /= s``; thresholds are unchanged.
    """
    _rescale_inputs_(sae, scale)
    if hasattr(sae, "cfg"):  # a learner's own module (notebook 02) has no config to record the scale in
        sae.cfg = dataclasses.replace(sae.cfg, input_scale=scale * (sae.cfg.input_scale or 1.0))


@torch.no_grad()
def init_b_dec_(sae: SAE, x: torch.Tensor, n_iter: int = 50) -> None:
    """sae.b_dec = the geometric median of x [n, d_in] (Weiszfeld's iteration; Towards Monosemanticity, 2023):
    training starts centred on the data, robust to outliers. ``n_iter=0``: the mean."""
    b = x.mean(0)  # [d_in]
    for _ in range(n_iter):
        w = 1 / (x - b).norm(dim=1).clamp_min(1e-8)  # [n]
        b = (w[:, None] * x).sum(0) / w.sum()
    sae.b_dec.copy_(b)


@torch.no_grad()
def _rescale_inputs_(sae: SAE, scale: float) -> None:
    """The weights of ``fold_input_scale_``, leaving cfg alone."""
    if scale == 1.0:
        return
    sae.W_enc.mul_(scale)
    sae.W_dec.div_(scale)
    sae.b_dec.div_(scale)


@torch.no_grad()
def _resample_dead_(sae: SAE, opt: torch.optim.Adam, x, loss, dead: torch.Tensor, gen) -> None:
    """Re-initialise dead latents towards inputs the SAE reconstructs badly (Towards Monosemanticity,
    2023, "Neuron resampling"): sample inputs x [batch, d_in] with probability proportional to their squared
    loss [batch], point the dead decoder rows at them, give the encoder 0.2 x the mean alive encoder norm,
    zero b_enc, and reset Adam's moments for the touched entries."""
    idx_dead = dead.nonzero().squeeze(1)  # [n_dead]
    if idx_dead.numel() == 0:
        return
    weights = (loss.pow(2) + 1e-12).cpu()  # [batch]
    pick = torch.multinomial(weights, idx_dead.numel(), replacement=True, generator=gen).to(
        x.device
    )  # [n_dead]
    dirs = x[pick] - sae.b_dec  # [n_dead, d_in]
    dirs = dirs / dirs.norm(dim=1, keepdim=True).clamp_min(1e-8)
    alive = ~dead
    enc_norm = sae.W_enc[:, alive].norm(dim=0).mean() if bool(alive.any()) else torch.tensor(1.0)
    dec_norm = sae.W_dec[alive].norm(dim=1).mean() if bool(alive.any()) else torch.tensor(1.0)
    sae.W_dec[idx_dead] = dirs * (1.0 if sae.cfg.normalize_decoder else dec_norm)
    sae.W_enc[:, idx_dead] = dirs.T * 0.2 * enc_norm
    sae.b_enc[idx_dead] = 0.0
    for p, index in (
        (sae.W_dec, (idx_dead,)),
        (sae.W_enc, (slice(None), idx_dead)),
        (sae.b_enc, (idx_dead,)),
    ):
        for key in ("exp_avg", "exp_avg_sq"):
            if p in opt.state:
                opt.state[p][key][index] = 0.0
