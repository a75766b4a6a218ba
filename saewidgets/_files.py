"""Atomic writes of files and folders: a reader never sees a half-written one, even after a crash or Ctrl-C.

A file is replaced by one ``os.replace``, atomic on POSIX and Windows. A folder cannot be swapped in one step, so
``commit_folder`` takes two renames (``dest`` -> ``.<name>.partial-<writer>.old``, then the new folder -> ``dest``);
a process killed between them leaves no folder under ``dest``, and a killed writer leaves its hidden partial
folder behind. ``recover_folder(dest)``, called by every writer before it starts and by readers before they look,
repairs both: it puts the newest whole folder back under ``dest`` and deletes partial folders whose writer
process is gone. Each partial folder's name records its writer (pid, process start time, host), so a live
writer's folder is never touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# A writer is between its two renames for microseconds; a reader that finds dest missing and the writer alive
# waits this long for the second rename before restoring the old folder itself.
RENAME_WAIT_S = 2.0


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
    """A new hidden temporary folder beside ``dest``, to be filled and then ``commit_folder``-ed.

    Its name, ``.<name>.partial-<pid>-<start>@<host>~<random>``, says which process writes it, so that
    ``recover_folder`` can delete it once that process is gone (a kill -9 runs no cleanup code)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(dest)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-{_writer_tag()}~", dir=dest.parent))


def commit_folder(tmp: Path, dest: str | Path) -> Path:
    """Rename the finished ``tmp`` to ``dest``; an old ``dest`` is renamed aside first and deleted after, so
    at every moment either the old or the new folder is whole: under ``dest``, or (after a kill between the
    two renames) beside it, where ``recover_folder`` finds it and puts it back."""
    dest = Path(dest)
    for f in tmp.iterdir():  # mkdtemp and some writers make owner-only files; shared installs need 644
        if f.is_file():
            f.chmod(0o644)
    tmp.chmod(0o755)
    if not dest.exists():
        os.rename(tmp, dest)
        return dest
    old = tmp.with_name(tmp.name + ".old")  # keeps the writer tag: recover_folder pairs it with tmp
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
    finishes, and nothing is left behind if it raises (Ctrl-C included; after a kill -9, the next
    ``recover_folder`` cleans up)."""
    tmp = partial_folder(dest)
    try:
        yield tmp
        commit_folder(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def recover_folder(dest: str | Path) -> Path:
    """Repair what killed writers left beside the folder ``dest``; call it before reading ``dest``.

    - ``dest`` missing after a kill between ``commit_folder``'s two renames: the new folder (complete: commit
      starts only after the writer finished) is renamed to ``dest``, or else the old one is put back.
    - Partial folders whose writer process is gone (pid not running, or now another process) are deleted. A live
      writer's partial, or one from another host (its pid cannot be checked here), is kept.

    Safe to call from several processes at once; returns ``dest``.
    """
    dest = Path(dest)
    try:
        names = os.listdir(dest.parent)
    except (FileNotFoundError, NotADirectoryError):
        return dest
    prefix = f".{dest.name}.partial-"
    found = [(n, _parse_tag(n[len(prefix) :])) for n in names if n.startswith(prefix)]
    if not found:
        return dest
    olds = [(n, w) for n, w in found if n.endswith(".old")]
    if olds and not dest.exists():
        _restore(dest, olds, {n for n, _ in found})
    legacy, whole = [], dest.exists()
    for name, writer in found:
        path = dest.parent / name
        if writer is None:
            legacy.append(path)
        elif (whole or not name.endswith(".old")) and _writer_gone(writer) and path.exists():
            shutil.rmtree(path, ignore_errors=True)
    if legacy:
        warnings.warn(
            f"{len(legacy)} hidden partial folder(s) beside {dest} were left by an older saewidgets "
            f"({_size_mb(legacy):.0f} MB), whose folder names do not say which process wrote them: "
            f"delete them once no process writes to {dest}: {', '.join(map(str, legacy[:3]))}"
            f"{' ...' if len(legacy) > 3 else ''}",
            stacklevel=2,
        )
    return dest


def _restore(dest: Path, olds: list, present: set[str]) -> None:
    """dest is missing and ``.old`` folders exist: a writer was killed (or is) between its two renames."""
    if not any(w is not None and _writer_gone(w) for _, w in olds):  # a live writer is about to finish
        deadline = time.monotonic() + RENAME_WAIT_S
        while time.monotonic() < deadline and not dest.exists():
            time.sleep(0.01)
        if dest.exists():
            return
    # Newest first: rename sets a folder's ctime, so the last one renamed aside is the last dest there was.
    for name, _ in sorted(olds, key=lambda nw: _ctime(dest.parent / nw[0]), reverse=True):
        new = name.removesuffix(".old")
        src = dest.parent / (new if new in present else name)  # the finished new folder beats the old one
        try:
            os.rename(src, dest)
        except OSError:  # another reader recovered it first, or src went away meanwhile
            pass
        if dest.exists():
            return


_TAG = re.compile(r"(?P<pid>\d+)-(?P<start>\d+)@(?P<host>[^~]*)~[A-Za-z0-9_]+(\.old)?")


def _parse_tag(rest: str) -> tuple[int, int, str] | None:
    """(pid, start ticks, host) from the tail of a partial folder's name; None for names without a writer."""
    m = _TAG.fullmatch(rest)
    return (int(m["pid"]), int(m["start"]), m["host"]) if m else None


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64]


def _writer_tag() -> str:
    pid = os.getpid()  # read on every call: a forked child is another writer
    return f"{pid}-{_start_ticks(pid) or 0}@{_host()}"


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (Linux /proc), or None where unknown. With the
    pid it names one process for good: pids are reused (a restarted container's first process gets the same
    one), start times are not."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[19])  # field 22, starttime (proc(5))
    except (OSError, IndexError, ValueError):
        return None


def _writer_gone(writer: tuple[int, int, str]) -> bool:
    """True only when it is certain that the process which wrote this folder has ended."""
    pid, start, host = writer
    if (
        host != _host() or os.name == "nt"
    ):  # another machine's pid cannot be checked; on Windows os.kill kills
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by another user
        pass
    except OSError:
        return False
    now = _start_ticks(pid)
    return bool(start and now is not None and now != start)  # the pid now belongs to another process


def _ctime(path: Path) -> float:
    try:
        return path.stat().st_ctime
    except OSError:
        return 0.0


def _size_mb(paths: list[Path]) -> float:
    return sum(f.stat().st_size for p in paths for f in p.rglob("*") if f.is_file()) / 1e6
