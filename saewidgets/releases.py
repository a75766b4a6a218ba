"""Pretrained SAEs by name: a small table of SAELens registry releases, and where their files sit in the local
Hugging Face cache.

``load_sae("gpt2-small-res-jb/blocks.8.hook_resid_pre")`` reads the release (``gpt2-small-res-jb``) and the SAE id
(everything after the first "/", so Gemma Scope's ``layer_12/width_16k/canonical`` works too) from
``releases.json``, shipped with the package: a few releases copied from SAELens's registry
(``sae_lens/pretrained_saes.yaml``; which commit of it, and when, is in the file's "sources" and "generated"
entries). ``python bench/refresh_sae_releases.py PATH/TO/sae_lens/pretrained_saes.yaml`` regenerates it from a
SAELens checkout. SAELens itself is not needed (it cannot be installed beside TransformerLens 4, SAELens #738).

Each row gives the Hugging Face repo, the path of the SAE inside it, the file layout (``"saelens"``: cfg.json +
sae_weights.safetensors; ``"gemma_scope"``: params.npz; ``"gemma_scope_2"``: config.json + params.safetensors),
the TransformerLens model name and hook, and d_in / d_sae where the registry states them.

Files are found through the hub client's cache (``HF_HUB_CACHE``, read when asked, not when imported). With
``HF_HUB_OFFLINE=1`` or no route to the hub, only the cache is read, and a missing file is reported at once with
the repo, the path, the cache folder and the command that fetches it. Nothing is downloaded otherwise than by
``huggingface_hub.hf_hub_download``, into that same cache.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ._hub import hub_cache_dir, hub_reachable

__all__ = ["PretrainedSAE", "UnknownReleaseError", "release_table", "resolve_release", "is_release_id"]

TABLE_FILE = Path(__file__).with_name("releases.json")
# The files each layout needs (the first one is what the SAE's folder is found by) and may have.
LAYOUT_FILES = {
    "saelens": (("cfg.json", "sae_weights.safetensors"), ("sparsity.safetensors",)),
    "gemma_scope": (("params.npz",), ()),
    "gemma_scope_2": (("config.json", "params.safetensors"), ()),
}


class UnknownReleaseError(ValueError):
    """A ``"<release>/<sae_id>"`` whose release or id is not in the table."""


@dataclass(frozen=True)
class PretrainedSAE:
    """One row of the table, resolved: where its files are on this machine (``files``: name -> local path)."""

    release: str
    sae_id: str
    repo: str
    path: str  # the SAE's folder inside the repo
    layout: str  # "saelens", "gemma_scope" or "gemma_scope_2"
    model: str | None  # TransformerLens / Hugging Face model name the SAE was trained on
    hook: str | None  # TransformerLens hook name it reads
    d_in: int | None
    d_sae: int | None
    info: dict = field(default_factory=dict)  # the rest of the row: l0, neuronpedia id, config_overrides
    files: dict = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        """The local folder holding the SAE's files (a snapshot folder of the hub cache)."""
        return Path(next(iter(self.files.values()))).parent

    def metadata(self) -> dict:
        """What load_sae adds to the SAE's metadata: where it came from."""
        return {
            "release": self.release,
            "sae_id": self.sae_id,
            "repo_id": self.repo,
            "path": self.path,
            **{k: v for k, v in self.info.items() if k in ("l0", "neuronpedia", "config_overrides")},
        }


@lru_cache(maxsize=1)
def release_table() -> dict:
    """The whole table (``releases.json``): "releases", "sources", "generated", "refresh"."""
    return json.loads(TABLE_FILE.read_text(encoding="utf-8"))


def is_release_id(name: str) -> bool:
    """Whether ``name`` starts with a release of the table followed by "/"."""
    head, sep, _ = str(name).partition("/")
    return bool(sep) and head in release_table()["releases"]


def resolve_release(name: str, *, download: bool | None = None) -> PretrainedSAE:
    """The table's row for ``"<release>/<sae_id>"`` with its files found in (or fetched into) the hub cache.

    ``download``: None (default) fetches missing files only when the hub is reachable and HF_HUB_OFFLINE is not
    set; False never fetches. Raises UnknownReleaseError (with close matches) for a name not in the table, and
    FileNotFoundError naming the repo, the files, the cache folder and how to fetch them when they are missing.
    """
    release, sae_id = _split(name)
    row = release_table()["releases"][release]
    entry = row["saes"][sae_id]
    need, optional = LAYOUT_FILES[row["layout"]]
    cache = hub_cache_dir()
    online = _may_download() if download is None else download and _may_download()
    files, failures = {}, []
    for fname in need + optional:
        local = _cached(row["repo"], f"{entry['path']}/{fname}", cache)
        if local is None and online:
            try:
                local = _download(row["repo"], f"{entry['path']}/{fname}", cache)
            except (
                Exception
            ) as e:  # gated repo, network error, file not in the repo: reported below if needed
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                failures.append(f"{fname}: {type(e).__name__} {first}".strip())
        if local is not None:
            files[fname] = local
    missing = [f for f in need if f not in files]
    if missing:
        failed = [f for f in failures if f.split(":")[0] in missing]
        raise FileNotFoundError(
            _not_cached(release, sae_id, row, entry["path"], missing, cache, online, failed)
        )
    return PretrainedSAE(
        release=release,
        sae_id=sae_id,
        repo=row["repo"],
        path=entry["path"],
        layout=row["layout"],
        model=row.get("model"),
        hook=entry.get("hook"),
        d_in=entry.get("d_in", row.get("d_in")),
        d_sae=entry.get("d_sae", row.get("d_sae")),
        info={**{k: v for k, v in row.items() if k == "config_overrides"}, **entry},
        files=files,
    )


# ---- helpers ---------------------------------------------------------------------------------------------------
def _split(name: str) -> tuple[str, str]:
    releases = release_table()["releases"]
    release, sep, sae_id = str(name).partition("/")
    if release not in releases:
        close = difflib.get_close_matches(release, list(releases), n=3, cutoff=0.5)
        hint = f"Did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        raise UnknownReleaseError(
            f"{name!r} is neither a SAE folder nor '<release>/<sae_id>' with a release in saewidgets' table. "
            f"{hint}Known releases: {', '.join(sorted(releases))}. For another SAE, download its folder "
            "(cfg.json + sae_weights.safetensors, or a Gemma Scope params.npz) and pass its path; to add a "
            "release, see saewidgets/releases.py (bench/refresh_sae_releases.py)"
        )
    saes = releases[release]["saes"]
    if not sep or sae_id not in saes:
        close = difflib.get_close_matches(sae_id, list(saes), n=3, cutoff=0.6)
        shown = close or sorted(saes)[:6]
        raise UnknownReleaseError(
            f"{sae_id!r} is not a SAE id of release {release!r} "
            f"({len(saes)} ids; {'close matches' if close else 'for example'}: "
            f"{', '.join(repr(s) for s in shown)}). Pass '{release}/<sae_id>'"
        )
    return release, sae_id


def _offline() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return True
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        return True


def _may_download() -> bool:
    return not _offline() and hub_reachable()


def _cached(repo: str, filename: str, cache: Path) -> str | None:
    """The local path of ``filename`` in the cache (any cached revision of main), or None. No network."""
    from huggingface_hub import try_to_load_from_cache

    hit = try_to_load_from_cache(repo, filename, cache_dir=str(cache))
    return hit if isinstance(hit, str) and os.path.isfile(hit) else None


def _download(repo: str, filename: str, cache: Path) -> str:
    from huggingface_hub import hf_hub_download

    return hf_hub_download(repo, filename, cache_dir=str(cache))


def _not_cached(
    release: str, sae_id: str, row: dict, path: str, missing: list, cache: Path, online: bool, failed: list
) -> str:
    repo = row["repo"]
    why = (
        "the hub is not reachable or HF_HUB_OFFLINE is set, so only the local cache was read"
        if not online
        else f"fetching them failed: {'; '.join(failed) or 'no error reported'}"
    )
    names = " ".join(f"{path}/{f}" for f in missing)
    return (
        f"{release}/{sae_id}: file(s) {', '.join(missing)} of repo {repo!r}, folder {path!r}, are not in the "
        f"Hugging Face cache at {cache} ({why}). Fetch them on a machine with network: "
        f"`hf download {repo} {names}` (older clients: `huggingface-cli download`, same arguments), then copy "
        "that cache here or point HF_HUB_CACHE at it; or download the folder yourself and pass its path to "
        "load_sae"
    )
