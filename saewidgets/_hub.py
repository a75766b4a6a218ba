"""Is the Hugging Face Hub reachable, is a repo in the local cache: asked before anything is downloaded.

Private: ``models`` and ``corpora`` both ask, and neither should import the other for it. ``OfflineError`` and
``hub_reachable`` are public through ``saewidgets``.

The cache is read in the hub client's own layout, so that a cache filled on a machine with network (or copied
from one) works offline with ``HF_HUB_OFFLINE=1``::

    HF_HUB_CACHE/models--ORG--NAME/refs/main            the commit hash of the cached revision
    HF_HUB_CACHE/models--ORG--NAME/snapshots/<hash>/    the repo's files (datasets: datasets--ORG--NAME)
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path


class OfflineError(RuntimeError):
    """A model or corpus that must come from the Hugging Face Hub was asked for while the hub is unreachable."""


def hub_cache_dir() -> Path:
    """The folder the hub client caches into: ``HF_HUB_CACHE`` as set now (even if set after the hub client
    was imported), else the client's default (``HF_HOME/hub``, ``~/.cache/huggingface/hub``)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    try:
        from huggingface_hub import constants

        return Path(constants.HF_HUB_CACHE).expanduser()
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        home = os.environ.get("HF_HOME") or "~/.cache/huggingface"
        return Path(home, "hub").expanduser()


def repo_folder(repo: str, repo_type: str = "model") -> Path:
    """Where the cache keeps ``repo``: ``models--gpt2``, ``datasets--NeelNanda--pile-10k``."""
    return hub_cache_dir() / f"{repo_type}s--{repo.replace('/', '--')}"


def cached_snapshot(repo: str, repo_type: str = "model", revision: str = "main") -> Path | None:
    """The local snapshot folder of ``repo`` at ``revision`` in the hub cache, or None. No network, no import
    of the hub client: it reads the cache's refs/ and snapshots/ folders."""
    folder = repo_folder(repo, repo_type)
    ref = folder / "refs" / revision
    try:
        commit = ref.read_text().strip() if ref.is_file() else revision
    except OSError:
        return None
    snapshot = folder / "snapshots" / commit
    return snapshot if commit and snapshot.is_dir() else None


def is_cached(repo: str, filename: str = "config.json", repo_type: str = "model") -> bool:
    """Whether the local hub cache holds ``filename`` of ``repo`` (no network)."""
    snapshot = cached_snapshot(repo, repo_type)
    return snapshot is not None and (snapshot / filename).is_file()


def how_to_fetch(repo: str, repo_type: str = "model") -> str:
    """One sentence: where the cache was searched and how to fill it."""
    flag = " --repo-type dataset" if repo_type == "dataset" else ""
    return (
        f"Searched the local Hugging Face cache at {hub_cache_dir()} for {repo_folder(repo, repo_type).name}: "
        f"no complete snapshot there. To fetch it, run `hf download {repo}{flag}` (older clients: "
        f"`huggingface-cli download {repo}{flag}`) on a machine with network, then copy its cache folder here "
        "or point HF_HUB_CACHE at a cache that holds it."
    )


def hub_reachable(timeout: float = 1.5) -> bool:
    """Whether the Hugging Face Hub answers a TCP connect within ``timeout`` seconds.

    Honours HF_HUB_OFFLINE=1 without touching the network. The connect runs in a daemon thread
    because DNS resolution has no timeout of its own and can hang on a closed network.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = host.partition(":")
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, int(port or 443)), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])
