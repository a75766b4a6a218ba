"""On-disk activation caches: safetensors shards written atomically, streamed back shuffled.

Layout of a cache folder::

    meta.json                  what made it (model + weight fingerprint, hook, dtype, texts) and its size
    shard_00000.safetensors    acts [rows, d_in], token_ids / doc_ids / positions [rows]
    shard_00001.safetensors    ...

The folder is built under a temporary sibling name and renamed into place only when complete,
so an interrupted harvest never leaves a folder that looks usable. A folder made by another
model, hook, dtype or text set is refused rather than mixed in. A cache that holds more rows than
asked for is reused for its first rows only: exactly what a fresh harvest would return.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ._files import commit_folder, partial_folder, recover_folder

FORMAT = "saewidgets-activations/1"
META = "meta.json"
# A mismatch in any of these means the cached rows are other activations, not just fewer of them.
IDENTITY_KEYS = ("model", "model_fingerprint", "hook", "dtype", "texts_fingerprint", "max_len")


def fingerprint_model(model: torch.nn.Module) -> str:
    """A cheap checksum of the weights: class, shapes and the first values of every parameter."""
    h = hashlib.sha256(type(model).__name__.encode())
    with torch.no_grad():
        for name, p in model.named_parameters():
            h.update(f"{name}{tuple(p.shape)}".encode())
            h.update(p.detach().flatten()[:64].float().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def fingerprint_texts(texts: list[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


class CacheWriter:
    """Collects harvested rows into shards of ``shard_tokens`` rows inside a temporary folder."""

    def __init__(self, final: Path, meta: dict, shard_tokens: int):
        self.final, self.meta, self.shard_tokens = final, meta, shard_tokens
        self.tmp = partial_folder(final)
        self.pending: list[tuple[torch.Tensor, ...]] = []
        self.n_pending = self.n_rows = 0
        self.shards: list[dict] = []
        self.d_in = 0
        self.existing = None

    @classmethod
    def open(cls, cache_dir: str | Path, meta: dict, shard_tokens: int, n_rows: int) -> CacheWriter:
        """A writer for ``cache_dir``; ``.existing`` is set instead when it already holds this harvest.

        ``n_rows``: the rows a fresh harvest would collect (n_tokens, or every token of the texts if fewer or
        None). A cache with more rows is reused for its first ``n_rows`` (a fresh harvest takes rows in the same
        order and stops there); one with fewer is refused."""
        if shard_tokens <= 0:
            raise ValueError(f"shard_tokens must be positive, got {shard_tokens}")
        final = Path(cache_dir).expanduser().resolve()
        recover_folder(final)  # a harvest killed while committing its folder left it beside its name
        if (final / META).is_file():
            cached = CachedActivations(final)
            _check_same(cached.meta, meta, final)
            if len(cached) >= n_rows:
                writer = cls.__new__(cls)
                writer.existing = cached if len(cached) == n_rows else CachedActivations(final, n_rows=n_rows)
                return writer
            asked = (f"the {n_rows} asked for" if meta["n_tokens_requested"] is not None else
                     f"the {n_rows} tokens of the texts that n_tokens=None asks for (it was made with n_tokens="
                     f"{cached.meta['n_tokens_requested']})")
            raise ValueError(f"The cache at {final} holds {len(cached)} tokens, fewer than {asked}. Use another "
                             "folder, or delete this one to rebuild it.")
        if final.exists() and any(final.iterdir()):
            raise ValueError(f"{final} exists, is not empty and is not an activation cache (no {META}); "
                             "give an empty or new folder.")
        final.parent.mkdir(parents=True, exist_ok=True)
        return cls(final, meta, shard_tokens)

    def add(self, acts: torch.Tensor, token_ids: torch.Tensor, doc_ids: torch.Tensor, positions: torch.Tensor):
        self.d_in = acts.shape[1]
        self.pending.append((acts, token_ids, doc_ids, positions))
        self.n_pending += len(acts)
        while self.n_pending >= self.shard_tokens:
            self._flush(self.shard_tokens)

    def _flush(self, n: int) -> None:
        acts, tok, doc, pos = (torch.cat(p) for p in zip(*self.pending))
        name = f"shard_{len(self.shards):05d}.safetensors"
        save_file({"acts": acts[:n].contiguous(), "token_ids": tok[:n].contiguous(),
                   "doc_ids": doc[:n].contiguous(), "positions": pos[:n].contiguous()}, str(self.tmp / name))
        self.shards.append({"file": name, "rows": int(min(n, len(acts)))})
        rest = [t[n:] for t in (acts, tok, doc, pos)]
        self.pending = [tuple(rest)] if len(rest[0]) else []
        self.n_pending = len(rest[0])
        self.n_rows += min(n, len(acts))

    def finish(self, norm_scale: float, texts: list[str]) -> CachedActivations:
        if self.n_pending:
            self._flush(self.n_pending)
        meta = dict(self.meta, format=FORMAT, n_tokens=self.n_rows, d_in=self.d_in,
                    norm_scale=norm_scale, shards=self.shards)
        (self.tmp / "texts.json").write_text(json.dumps(texts))
        (self.tmp / META).write_text(json.dumps(meta, indent=1))  # written last: marks a complete cache
        return CachedActivations(commit_folder(self.tmp, self.final))

    def abort(self) -> None:
        """Drop the partial folder (an interrupted or failed harvest leaves nothing behind)."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def _first_rows(meta: dict, n: int) -> dict:
    """``meta`` for the first ``n`` rows of a cache: the shards that hold them, the last one cut short."""
    shards, left = [], n
    for s in meta["shards"]:
        if left == 0:
            break
        shards.append(dict(s, rows=min(s["rows"], left)))
        left -= shards[-1]["rows"]
    return dict(meta, n_tokens=n, n_tokens_on_disk=meta["n_tokens"], shards=shards)


def _check_same(have: dict, want: dict, where: Path) -> None:
    diff = [k for k in IDENTITY_KEYS if have.get(k) != want.get(k)]
    if diff:
        lines = "; ".join(f"{k}: cache has {have.get(k)!r}, you asked for {want.get(k)!r}" for k in diff)
        raise ValueError(f"The activation cache at {where} was made differently ({lines}). Refusing to mix: "
                         "use another folder, or delete this one to rebuild it.")


class CachedActivations:
    """A finished cache folder, read lazily: the same ``batches`` interface as ``ActivationSet``.

    ``n_rows``: use only the first rows of the cache (``harvest`` passes the ``n_tokens`` asked for); ``meta``
    then describes those rows (``n_tokens``, their own ``norm_scale``, shards cut short) and
    ``meta["n_tokens_on_disk"]`` says how many rows the folder holds."""

    def __init__(self, path: str | Path, n_rows: int | None = None):
        self.path = recover_folder(Path(path))
        meta_file = self.path / META
        if not meta_file.is_file():
            raise FileNotFoundError(f"{self.path} is not an activation cache (no {META}).")
        self.meta = json.loads(meta_file.read_text())
        if self.meta.get("format") != FORMAT:
            raise ValueError(f"{self.path} has cache format {self.meta.get('format')!r}; expected {FORMAT!r}.")
        self.hook, self.model_name = self.meta["hook"], self.meta["model"]
        self.d_in = int(self.meta["d_in"])
        if n_rows is not None and not 0 < n_rows <= int(self.meta["n_tokens"]):
            raise ValueError(f"n_rows must be in [1, {self.meta['n_tokens']}] for the cache at {self.path}; "
                             f"got {n_rows}")
        if n_rows is not None and n_rows < int(self.meta["n_tokens"]):
            self.meta = _first_rows(self.meta, n_rows)
            self.meta["norm_scale"] = self._norm_scale()
        self.norm_scale = float(self.meta["norm_scale"])
        if not (math.isfinite(self.norm_scale) and self.norm_scale > 0):  # caches written before harvest checked
            raise ValueError(f"The activation cache at {self.path} holds non-finite or all-zero activations "
                             f"(norm_scale {self.norm_scale}); delete it and harvest again: harvest now says "
                             "which row is bad.")

    def _norm_scale(self) -> float:
        """sqrt(d_in) / mean row norm over the rows in use, as harvest computes it for a fresh harvest."""
        total = sum(float(self._shard(i)["acts"].double().norm(dim=1).sum()) for i in range(len(self.meta["shards"])))
        return math.sqrt(self.d_in) / (total / len(self)) if total > 0 else float("nan")

    def __len__(self) -> int:
        return int(self.meta["n_tokens"])

    def _shard(self, i: int) -> dict[str, torch.Tensor]:
        shard = self.meta["shards"][i]
        with safe_open(str(self.path / shard["file"]), framework="pt") as f:  # only the rows in use are read
            return {k: f.get_slice(k)[: shard["rows"]] for k in f.keys()}

    def batches(self, batch_size: int, shuffle: bool = True, seed: int = 0, normalize: bool = False,
                drop_last: bool = False, device: str | torch.device | None = None) -> Iterator[torch.Tensor]:
        """One pass in ``[batch_size, d_in]`` batches, holding at most two shards in memory.

        Shuffling visits shards in a random order and mixes the rows of two shards at a time:
        one shard alone would hand out documents in long runs, which biases SAE training.
        """
        from .activations import _check_batch_size

        _check_batch_size(batch_size)
        gen = torch.Generator().manual_seed(seed)
        n_shards = len(self.meta["shards"])
        order = torch.randperm(n_shards, generator=gen).tolist() if shuffle else list(range(n_shards))
        carry = torch.empty(0, self.d_in, dtype=getattr(torch, self.meta["dtype"]))
        for j in range(0, n_shards, 2):
            x = torch.cat([carry] + [self._shard(i)["acts"] for i in order[j : j + 2]])  # [rows, d_in]
            if shuffle:
                x = x[torch.randperm(len(x), generator=gen)]
            last = j + 2 >= n_shards
            cut = len(x) if last else len(x) - len(x) % batch_size
            for i in range(0, cut, batch_size):
                b = x[i : i + batch_size]
                if len(b) < batch_size and drop_last:
                    break
                b = b.to(device) if device is not None else b
                yield b * self.norm_scale if normalize else b
            carry = x[cut:]

    def load(self):
        """Everything in memory as an ``ActivationSet``."""
        from .activations import ActivationSet

        shards = [self._shard(i) for i in range(len(self.meta["shards"]))]
        cat = {k: torch.cat([s[k] for s in shards]) for k in shards[0]}
        texts_file = self.path / "texts.json"
        texts = json.loads(texts_file.read_text()) if texts_file.is_file() else None
        return ActivationSet(cat["acts"], cat["token_ids"], cat["doc_ids"], cat["positions"], hook=self.hook,
                             model_name=self.model_name, norm_scale=self.norm_scale, texts=texts)
