"""Writing on-disk activation caches: safetensors shards written atomically, and finding one to reuse.

``harvest(..., cache_dir=...)`` first asks ``find_cache`` whether the folder already holds this harvest
(returned as a ``CachedActivations``, read back by ``activation_set``); if not, a ``CacheWriter`` collects the
rows into shards. The layout of a cache folder is described in ``activation_set``.

The folder is built under a temporary sibling name and renamed into place only when complete,
so an interrupted harvest never leaves a folder that looks usable. A folder made by another
model, hook, dtype or text set is refused rather than mixed in. A cache that holds more rows than
asked for is reused for its first rows only: exactly what a fresh harvest would return.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file

from ._files import commit_folder, partial_folder, recover_folder
from .activation_set import FORMAT, META, CachedActivations

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
    """A checksum of the texts in order (NUL-separated, so ["ab", "c"] and ["a", "bc"] differ)."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def find_cache(cache_dir: str | Path, meta: dict, n_rows: int) -> CachedActivations | None:
    """The cache at ``cache_dir`` when it already holds this harvest, else None (the folder is free to write).

    ``meta``: what identifies the harvest (``IDENTITY_KEYS`` must match the cache's). ``n_rows``: the rows a
    fresh harvest would collect (n_tokens, or every token of the texts if fewer or None). A cache with more rows
    is reused for its first ``n_rows`` (a fresh harvest takes rows in the same order and stops there); one with
    fewer, one made differently, or a non-empty folder that is not a cache raises a ValueError."""
    final = _resolve(cache_dir)
    recover_folder(final)  # a harvest killed while committing its folder left it beside its name
    if (final / META).is_file():
        cached = CachedActivations(final)
        _check_same(cached.meta, meta, final)
        if len(cached) >= n_rows:
            return cached if len(cached) == n_rows else CachedActivations(final, n_rows=n_rows)
        asked = (
            f"the {n_rows} asked for"
            if meta["n_tokens_requested"] is not None
            else f"the {n_rows} tokens of the texts that n_tokens=None asks for (it was made with n_tokens="
            f"{cached.meta['n_tokens_requested']})"
        )
        raise ValueError(
            f"The cache at {final} holds {len(cached)} tokens, fewer than {asked}. Use another "
            "folder, or delete this one to rebuild it."
        )
    if final.exists() and any(final.iterdir()):
        raise ValueError(
            f"{final} exists, is not empty and is not an activation cache (no {META}); "
            "give an empty or new folder."
        )
    return None


def _resolve(cache_dir: str | Path) -> Path:
    return Path(cache_dir).expanduser().resolve()


class CacheWriter:
    """Collects harvested rows into shards of ``shard_tokens`` rows inside a temporary folder beside
    ``cache_dir``; ``finish`` renames it into place, ``abort`` deletes it. Ask ``find_cache`` first: the
    writer replaces whatever ``cache_dir`` holds."""

    def __init__(self, cache_dir: str | Path, meta: dict, shard_tokens: int):
        if shard_tokens <= 0:
            raise ValueError(f"shard_tokens must be positive, got {shard_tokens}")
        self.final, self.meta, self.shard_tokens = _resolve(cache_dir), meta, shard_tokens
        self.tmp = partial_folder(self.final)  # makes the parent folder too
        self.pending: list[tuple[torch.Tensor, ...]] = []  # rows added but not yet in a shard
        self.n_pending = self.n_rows = 0
        self.shards: list[dict] = []  # meta.json's "shards": [{"file", "rows"}]
        self.d_in = 0

    def add(
        self, acts: torch.Tensor, token_ids: torch.Tensor, doc_ids: torch.Tensor, positions: torch.Tensor
    ):
        """Append rows: acts [rows, d_in]; token_ids / doc_ids / positions [rows] int64."""
        self.d_in = acts.shape[1]
        self.pending.append((acts, token_ids, doc_ids, positions))
        self.n_pending += len(acts)
        while self.n_pending >= self.shard_tokens:
            self._flush(self.shard_tokens)

    def _flush(self, n: int) -> None:
        acts, tok, doc, pos = (torch.cat(p) for p in zip(*self.pending))
        name = f"shard_{len(self.shards):05d}.safetensors"
        save_file(
            {
                "acts": acts[:n].contiguous(),
                "token_ids": tok[:n].contiguous(),
                "doc_ids": doc[:n].contiguous(),
                "positions": pos[:n].contiguous(),
            },
            str(self.tmp / name),
        )
        self.shards.append({"file": name, "rows": int(min(n, len(acts)))})
        rest = [t[n:] for t in (acts, tok, doc, pos)]
        self.pending = [tuple(rest)] if len(rest[0]) else []
        self.n_pending = len(rest[0])
        self.n_rows += min(n, len(acts))

    def finish(self, norm_scale: float, texts: list[str]) -> CachedActivations:
        """Write the last shard, texts.json and meta.json, and rename the folder into place."""
        if self.n_pending:
            self._flush(self.n_pending)
        meta = dict(
            self.meta,
            format=FORMAT,
            n_tokens=self.n_rows,
            d_in=self.d_in,
            norm_scale=norm_scale,
            shards=self.shards,
        )
        (self.tmp / "texts.json").write_text(json.dumps(texts))
        (self.tmp / META).write_text(json.dumps(meta, indent=1))  # written last: marks a complete cache
        return CachedActivations(commit_folder(self.tmp, self.final))

    def abort(self) -> None:
        """Drop the partial folder (an interrupted or failed harvest leaves nothing behind)."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def _check_same(have: dict, want: dict, where: Path) -> None:
    diff = [k for k in IDENTITY_KEYS if have.get(k) != want.get(k)]
    if diff:
        lines = "; ".join(f"{k}: cache has {have.get(k)!r}, you asked for {want.get(k)!r}" for k in diff)
        raise ValueError(
            f"The activation cache at {where} was made differently ({lines}). Refusing to mix: "
            "use another folder, or delete this one to rebuild it."
        )
