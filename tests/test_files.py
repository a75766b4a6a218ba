"""saewidgets._files: a folder replaced by two renames survives a kill between them (recovered on open), and
partial folders of killed writers are cleaned up while a live writer's are kept."""

import os
import signal
import subprocess
import sys

import pytest

from saewidgets import _files as files
from saewidgets._files import atomic_folder, partial_folder, recover_folder

# Run in a fresh interpreter (files.py loaded by path: no torch import, ~50 ms): write dest with atomic_folder and
# SIGKILL ourselves either while writing or between commit_folder's two renames.
WRITER = r"""
import importlib.util, os, signal, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("files", sys.argv[1])
files = importlib.util.module_from_spec(spec)
spec.loader.exec_module(files)
dest, mode, value = Path(sys.argv[2]), sys.argv[3], sys.argv[4]
real, calls = os.rename, []
def rename(a, b):
    calls.append((a, b))
    if mode == "between" and len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    real(a, b)
os.rename = rename
with files.atomic_folder(dest) as tmp:
    (tmp / "v").write_text(value)
    (tmp / "big").write_bytes(b"x" * 100_000)
    if mode == "writing":
        os.kill(os.getpid(), signal.SIGKILL)
"""


def run_writer(dest, mode, value):
    proc = subprocess.run([sys.executable, "-c", WRITER, files.__file__, str(dest), mode, value])
    assert proc.returncode == -signal.SIGKILL


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def hidden(parent):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def write(dest, value):
    with atomic_folder(dest) as tmp:
        (tmp / "v").write_text(value)


def fake_partial(dest, tag, value, old=False):
    """A partial folder as a writer with ``tag`` (pid-start@host) would have named it."""
    path = dest.parent / f".{dest.name}.partial-{tag}~abc123{'.old' if old else ''}"
    path.mkdir()
    (path / "v").write_text(value)
    return path


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_real_kill_9_between_the_renames_and_while_writing(tmp_path):
    dest = tmp_path / "ckpt"
    write(dest, "1")
    run_writer(dest, "between", "2")
    assert not dest.exists() and len(hidden(tmp_path)) == 2  # the bug: no folder under the real name
    assert (recover_folder(dest) / "v").read_text() == "2"  # the new folder was complete: it wins
    assert hidden(tmp_path) == []
    for _ in range(3):  # each kill used to leave a hidden partial behind for good (30 kills: 1.3 GB)
        run_writer(dest, "writing", "3")
        assert len(hidden(tmp_path)) == 1  # each writer first deleted the one its killed predecessor left
    write(dest, "4")  # and the next writer cleans up the last one before it starts
    assert hidden(tmp_path) == [] and (dest / "v").read_text() == "4"


def test_kill_between_renames_without_the_new_folder_puts_the_old_back(tmp_path):
    dest = tmp_path / "ckpt"
    tag = f"{dead_pid()}-1@{files._host()}"
    fake_partial(dest, tag, "old", old=True)
    assert (recover_folder(dest) / "v").read_text() == "old" and hidden(tmp_path) == []


def test_load_sae_recovers_a_folder_left_between_the_renames(tmp_path):
    import torch

    from saewidgets import SAEConfig, build_sae
    from saewidgets.io import load_sae, save_sae

    dest = tmp_path / "sae"
    sae = build_sae(SAEConfig("relu", d_in=4, d_sae=8))
    save_sae(sae, dest)
    os.rename(dest, tmp_path / f".sae.partial-{dead_pid()}-1@{files._host()}~abc123.old")
    loaded = load_sae(dest)
    assert torch.equal(loaded.W_enc, sae.W_enc) and hidden(tmp_path) == []


def test_live_writers_partials_are_kept_dead_ones_removed(tmp_path):
    dest = tmp_path / "ckpt"
    write(dest, "1")
    mine = partial_folder(dest)  # this process, alive: in use
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = files._start_ticks(sleeper.pid)
        live = fake_partial(dest, f"{sleeper.pid}-{start or 0}@{files._host()}", "x")
        elsewhere = fake_partial(dest, f"{dead_pid()}-1@another-host", "y")  # a pid we cannot check here
        dead = fake_partial(dest, f"{dead_pid()}-1@{files._host()}", "z")
        dead_old = fake_partial(dest, f"{dead_pid()}-1@{files._host()}", "z", old=True)
        recover_folder(dest)
        assert mine.is_dir() and live.is_dir() and elsewhere.is_dir()
        assert not dead.exists() and not dead_old.exists()
        assert (dest / "v").read_text() == "1"
    finally:
        sleeper.kill()
        sleeper.wait()
    recover_folder(dest)
    assert not live.exists() and mine.is_dir()


@pytest.mark.skipif(files._start_ticks(os.getpid()) is None, reason="needs /proc start times (Linux)")
def test_a_reused_pid_does_not_keep_a_dead_writers_partial(tmp_path):
    """A restarted container's first process gets the pid of the one that died: the start time tells them apart."""
    dest = tmp_path / "ckpt"
    start = files._start_ticks(os.getpid())
    reused = fake_partial(dest, f"{os.getpid()}-{start - 1}@{files._host()}", "x")
    ours = fake_partial(dest, f"{os.getpid()}-{start}@{files._host()}", "y")
    recover_folder(dest)
    assert not reused.exists() and ours.exists()


def test_a_live_writer_between_its_renames_gets_time_to_finish(tmp_path, monkeypatch):
    dest = tmp_path / "ckpt"
    monkeypatch.setattr(files, "RENAME_WAIT_S", 0.05)
    old = fake_partial(dest, files._writer_tag(), "old", old=True)  # alive (this process), yet stuck
    assert (recover_folder(dest) / "v").read_text() == "old" and not old.exists()


def test_partials_of_older_versions_are_reported_not_deleted(tmp_path):
    dest = tmp_path / "ckpt"
    write(dest, "1")
    legacy = tmp_path / ".ckpt.partial-k3j4h5g6"
    legacy.mkdir()
    with pytest.warns(UserWarning, match="1 hidden partial folder.*older saewidgets.*delete them"):
        recover_folder(dest)
    assert legacy.is_dir()
