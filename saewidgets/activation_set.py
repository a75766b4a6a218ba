"""The two shapes harvested activations come in, with one interface: ``batches``, ``head`` and ``len``.

- ``ActivationSet``: in memory, a ``[n_tokens, d_in]`` tensor plus, per row, its token id, document index
  and position, so every row traces back to its text (what ``harvest`` returns).
- ``CachedActivations``: a finished cache folder on disk (what ``harvest(..., cache_dir=...)`` returns),
  read lazily, shard by shard. ``activation_cache`` writes these folders; the layout is::

      meta.json                  what made it (model + weight fingerprint, hook, dtype, texts) and its size
      texts.json                 the harvested texts, so rows still trace back to documents
      shard_00000.safetensors    acts [rows, d_in], token_ids / doc_ids / positions [rows]
      shard_00001.safetensors    ...

Training, metrics and the widgets take either; ``load`` and ``head`` turn a cache into an ``ActivationSet``.
This module imports nothing else of the package's but the folder-recovery helper: it is the data type the
layers above share.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open

from ._files import recover_folder

FORMAT = "saewidgets-activations/1"  # meta.json's "format": bumped when the layout changes
META = "meta.json"  # written last by the cache writer: its presence marks a complete cache


def check_batch_size(batch_size: int) -> None:
    """Raise a ValueError unless ``batch_size`` is a positive int (0 would loop forever, 2.5 would slice oddly)."""
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def _check_head(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"head(n) needs a non-negative integer number of rows, got {n!r}")


@dataclass
class ActivationSet:
    """Activations at one hook, in memory, with what is needed to trace every row back to text."""

    acts: torch.Tensor  # [n_tokens, d_in]
    token_ids: torch.Tensor  # [n_tokens] int64: the token at that position
    doc_ids: torch.Tensor  # [n_tokens] int64: index into the harvested texts
    positions: torch.Tensor  # [n_tokens] int64: input position (first token: 1 after BOS/[CLS], else 0)
    hook: str
    model_name: str
    norm_scale: float  # multiply acts by this so that E||x|| = sqrt(d_in) (input normalisation)
    texts: list[str] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.acts.shape[0]

    @property
    def d_in(self) -> int:
        return self.acts.shape[1]

    def batches(
        self,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        normalize: bool = False,
        drop_last: bool = False,
        device: str | torch.device | None = None,
    ) -> Iterator[torch.Tensor]:
        """One pass over the rows in batches of ``[batch_size, d_in]`` (shuffled with ``seed``)."""
        check_batch_size(batch_size)
        n = len(self)
        order = (
            torch.randperm(n, generator=torch.Generator().manual_seed(seed)) if shuffle else torch.arange(n)
        )
        stop = n - n % batch_size if drop_last else n
        for i in range(0, stop, batch_size):
            x = self.acts[order[i : i + batch_size]]  # [batch, d_in]
            x = x.to(device) if device is not None else x
            yield x * self.norm_scale if normalize else x

    def head(self, n: int) -> ActivationSet:
        """The first ``n`` rows (this set itself when it has no more): texts, hook and ``norm_scale`` kept, so
        rows still trace back to their documents. Rows of a document are contiguous, so only the last
        document may be cut short."""
        _check_head(n)
        if len(self) <= n:
            return self
        return dataclasses.replace(
            self,
            acts=self.acts[:n],
            token_ids=self.token_ids[:n],
            doc_ids=self.doc_ids[:n],
            positions=self.positions[:n],
        )

    def text_of(self, row: int) -> str:
        """The document a row came from (needs ``texts``, which harvest records)."""
        if self.texts is None:
            raise ValueError("This ActivationSet has no texts attached; harvest records them.")
        return self.texts[int(self.doc_ids[row])]


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
            raise ValueError(
                f"{self.path} has cache format {self.meta.get('format')!r}; expected {FORMAT!r}."
            )
        self.hook, self.model_name = self.meta["hook"], self.meta["model"]
        self.d_in = int(self.meta["d_in"])
        if n_rows is not None and not 0 < n_rows <= int(self.meta["n_tokens"]):
            raise ValueError(
                f"n_rows must be in [1, {self.meta['n_tokens']}] for the cache at {self.path}; got {n_rows}"
            )
        if n_rows is not None and n_rows < int(self.meta["n_tokens"]):
            self.meta = _first_rows(self.meta, n_rows)
            self.meta["norm_scale"] = self._norm_scale()
        self.norm_scale = float(self.meta["norm_scale"])
        if not (
            math.isfinite(self.norm_scale) and self.norm_scale > 0
        ):  # caches written before harvest checked
            raise ValueError(
                f"The activation cache at {self.path} holds non-finite or all-zero activations "
                f"(norm_scale {self.norm_scale}); delete it and harvest again: harvest now says "
                "which row is bad."
            )

    def _norm_scale(self) -> float:
        """sqrt(d_in) / mean row norm over the rows in use, as harvest computes it for a fresh harvest."""
        total = sum(float(self._read(s)["acts"].double().norm(dim=1).sum()) for s in self.meta["shards"])
        return math.sqrt(self.d_in) / (total / len(self)) if total > 0 else float("nan")

    def __len__(self) -> int:
        return int(self.meta["n_tokens"])

    def _read(self, shard: dict) -> dict[str, torch.Tensor]:
        """One shard's tensors (``shard``: an entry of ``meta["shards"]``), only its first ``rows`` read."""
        with safe_open(str(self.path / shard["file"]), framework="pt") as f:
            return {k: f.get_slice(k)[: shard["rows"]] for k in f.keys()}

    def batches(
        self,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        normalize: bool = False,
        drop_last: bool = False,
        device: str | torch.device | None = None,
    ) -> Iterator[torch.Tensor]:
        """One pass in ``[batch_size, d_in]`` batches, holding at most two shards in memory.

        Shuffling visits shards in a random order and mixes the rows of two shards at a time:
        one shard alone would hand out documents in long runs, which biases SAE training.
        """
        check_batch_size(batch_size)
        gen = torch.Generator().manual_seed(seed)
        shards = self.meta["shards"]
        order = torch.randperm(len(shards), generator=gen).tolist() if shuffle else list(range(len(shards)))
        carry = torch.empty(0, self.d_in, dtype=getattr(torch, self.meta["dtype"]))
        for j in range(0, len(shards), 2):
            x = torch.cat([carry] + [self._read(shards[i])["acts"] for i in order[j : j + 2]])  # [rows, d_in]
            if shuffle:
                x = x[torch.randperm(len(x), generator=gen)]
            last = j + 2 >= len(shards)
            cut = len(x) if last else len(x) - len(x) % batch_size
            for i in range(0, cut, batch_size):
                b = x[i : i + batch_size]
                if len(b) < batch_size and drop_last:
                    break
                b = b.to(device) if device is not None else b
                yield b * self.norm_scale if normalize else b
            carry = x[cut:]

    @property
    def texts(self) -> list[str] | None:
        """The harvested texts (texts.json), read once; None for a cache written without them."""
        if not hasattr(self, "_texts"):
            texts_file = self.path / "texts.json"
            self._texts = json.loads(texts_file.read_text()) if texts_file.is_file() else None
        return self._texts

    @property
    def token_ids(self) -> torch.Tensor:
        """[n_tokens] int64 token id of every row in use, read without the activations."""
        return self._column("token_ids")

    @property
    def doc_ids(self) -> torch.Tensor:
        """[n_tokens] int64 document (index into ``texts``) of every row, read without the activations."""
        return self._column("doc_ids")

    @property
    def positions(self) -> torch.Tensor:
        """[n_tokens] int64 position of every row in BOS + document, read without the activations."""
        return self._column("positions")

    def _column(self, key: str) -> torch.Tensor:
        """One per-row column of every shard in use (a few bytes a row: kept after the first read)."""
        columns = self.__dict__.setdefault("_columns", {})
        if key not in columns:
            parts = []
            for shard in self.meta["shards"]:
                with safe_open(str(self.path / shard["file"]), framework="pt") as f:
                    parts.append(f.get_slice(key)[: shard["rows"]])
            columns[key] = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long)
        return columns[key]

    def load(self) -> ActivationSet:
        """Everything in memory as an ``ActivationSet``."""
        return self._load(self.meta["shards"])

    def head(self, n: int) -> ActivationSet:
        """The first ``n`` rows in memory as an ``ActivationSet`` (all of them when the cache has no more),
        reading only the shards that hold them; ``norm_scale`` stays the cache's, as ``ActivationSet.head``
        keeps its own."""
        _check_head(n)
        if n >= len(self):
            return self.load()
        return self._load(_first_rows(self.meta, max(n, 1))["shards"]).head(
            n
        )  # head(0): one row read, none kept

    def _load(self, shards: list[dict]) -> ActivationSet:
        parts = [self._read(s) for s in shards]
        cat = {k: torch.cat([p[k] for p in parts]) for k in ("acts", "token_ids", "doc_ids", "positions")}
        texts = self.texts
        return ActivationSet(
            cat["acts"],
            cat["token_ids"],
            cat["doc_ids"],
            cat["positions"],
            hook=self.hook,
            model_name=self.model_name,
            norm_scale=self.norm_scale,
            texts=texts,
        )


def _first_rows(meta: dict, n: int) -> dict:
    """``meta`` for the first ``n`` rows of a cache: the shards that hold them, the last one cut short."""
    shards, left = [], n
    for s in meta["shards"]:
        if left == 0:
            break
        shards.append(dict(s, rows=min(s["rows"], left)))
        left -= shards[-1]["rows"]
    return dict(meta, n_tokens=n, n_tokens_on_disk=meta["n_tokens"], shards=shards)
