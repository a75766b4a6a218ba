"""Is the Hugging Face Hub reachable, is a repo in the local cache: asked before anything is downloaded.

Private: ``models`` and ``corpora`` both ask, and neither should import the other for it. ``OfflineError`` and
``hub_reachable`` are public through ``saewidgets``.
"""

from __future__ import annotations

import os
import socket
import threading


class OfflineError(RuntimeError):
    """A model or corpus that must come from the Hugging Face Hub was asked for while the hub is unreachable."""


def is_cached(repo: str) -> bool:
    """Whether the hub client's local cache holds ``repo``'s config.json (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(repo, "config.json")
        return isinstance(hit, str)
    except Exception:  # an old hub client, a malformed id: treat as not cached
        return False


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
