"""Atomic writes of files and folders: a reader never sees a half-written one, even after a crash or Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    return _write_atomic(path, text, "w")


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """``write_text_atomic`` for bytes (a PNG, say)."""
    return _write_atomic(path, data, "wb")


def _write_atomic(path: str | Path, content: str | bytes, mode: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            f.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | Path, obj) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=1) + "\n")


def partial_folder(dest: str | Path) -> Path:
    """A new hidden temporary folder beside ``dest``, to be filled and then ``commit_folder``-ed."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))


def commit_folder(tmp: Path, dest: str | Path) -> Path:
    """Rename the finished ``tmp`` to ``dest``; an old ``dest`` is renamed aside first and deleted after, so
    at every moment either the old or the new folder is whole."""
    dest = Path(dest)
    for f in tmp.iterdir():  # mkdtemp and some writers make owner-only files; shared installs need 644
        if f.is_file():
            f.chmod(0o644)
    tmp.chmod(0o755)
    if not dest.exists():
        os.rename(tmp, dest)
        return dest
    old = tmp.with_name(tmp.name + ".old")
    os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except BaseException:
        os.rename(old, dest)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return dest


@contextmanager
def atomic_folder(dest: str | Path) -> Iterator[Path]:
    """``with atomic_folder(dest) as tmp:`` write files into ``tmp``; they replace ``dest`` only if the block
    finishes, and nothing is left behind if it raises (Ctrl-C included)."""
    tmp = partial_folder(dest)
    try:
        yield tmp
        commit_folder(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
