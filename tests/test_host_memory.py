"""host_memory.py: a CPU training run reuses its steps' memory instead of faulting in fresh pages each step."""

import json
import platform
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from saewidgets import training
from saewidgets._host_memory import reuse_freed_memory
from saewidgets.activation_set import ActivationSet
from saewidgets.config import SAEConfig
from saewidgets.sae import build_sae

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="host_memory.py tunes glibc's malloc; elsewhere it is a documented no-op",
)

PAGES_64MB = 64 * 2**20 // resource.getpagesize()


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def extra_faults_per_step(steps: tuple[int, int] = (3, 9)) -> float:
    """Minor page faults of each step beyond the first few, training on [2048, 8192] float32 = 64 MB activations:
    above glibc's largest mmap threshold (32 MB), so without host_memory.py every such tensor is a fresh mmap."""
    x = torch.randn(4096, 16)  # [n, d_in]
    zeros = torch.zeros(len(x), dtype=torch.long)
    acts = ActivationSet(x, zeros, zeros, zeros, hook="toy", model_name="toy", norm_scale=1.0)
    counts = []
    for n in steps:
        sae = build_sae(SAEConfig("relu", d_in=16, d_sae=8192))
        before = faults()
        training.train(
            sae, acts, n_tokens=n * 2048, batch_size=2048, device="cpu", progress=False, log_every=100
        )
        counts.append(faults() - before)
    return (counts[1] - counts[0]) / (steps[1] - steps[0])


def in_fresh_process(reuse: bool) -> float:
    """extra_faults_per_step() in a new interpreter: in one that has trained before, glibc serves part of a step
    from the heap that run left behind, whatever this run's setting."""
    code = (
        "import contextlib, sys; sys.path.insert(0, 'tests'); import test_host_memory as t; "
        + ("" if reuse else "t.training.reuse_freed_memory = lambda enabled: contextlib.nullcontext(False); ")
        + "print(t.extra_faults_per_step())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    return float(out.stdout.split()[-1])


@pytest.mark.slow  # ~10-15 s on 2 cores: out of `make check`, in `make test`
def test_cpu_training_steps_reuse_memory():
    # without reuse a step faults in ~3 tensors of 64 MB; with it, later steps only a fraction of one
    without, with_reuse = in_fresh_process(reuse=False), in_fresh_process(reuse=True)
    assert without > 2 * PAGES_64MB, without  # the measurement can fail
    assert with_reuse < 0.1 * PAGES_64MB, with_reuse


def test_memory_is_given_back_on_exit_and_nesting_holds_until_the_outermost():
    with reuse_freed_memory() as outer:
        assert outer is True
        with reuse_freed_memory() as inner:
            assert inner is True
        held = [torch.ones(2**24) for _ in range(3)]  # 3 x 64 MB, still inside the outer block
        del held
        inside = rss_mb()
    assert rss_mb() < inside - 128, "the held memory went back to the system on the outermost exit"


def test_disabled_is_a_no_op():
    with reuse_freed_memory(enabled=False) as on:
        assert on is False


MALLOPT_PROBE = """
import ctypes, json
from saewidgets._host_memory import reuse_freed_memory

libc = ctypes.CDLL(None)


class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                              "fsmblks", "uordblks", "fordblks", "keepcost")]


libc.mallinfo2.restype = MallInfo2
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
MB = 1 << 20


def mmapped_64mb():  # is a 64 MB malloc served by mmap?
    before = libc.mallinfo2().hblks
    p = libc.malloc(64 * MB)
    mmapped = libc.mallinfo2().hblks > before
    libc.free(p)
    return mmapped


def heap_kept_mb(mb):  # fill the heap with mb MB of 64 kB blocks (always below the mmap threshold), free them
    blocks = (ctypes.c_void_p * (mb * 16))()
    for i in range(len(blocks)):
        blocks[i] = libc.malloc(64 << 10)
    peak = libc.mallinfo2().arena
    for i in reversed(range(len(blocks))):
        libc.free(blocks[i])
    return (libc.mallinfo2().arena - peak + mb * MB) / MB  # how much of it the heap still holds


out = {}
with reuse_freed_memory():
    out["inside"] = [mmapped_64mb(), heap_kept_mb(128)]
out["after"] = [mmapped_64mb(), heap_kept_mb(32), heap_kept_mb(128)]
print(json.dumps(out))
"""


def test_exit_sets_the_settings_the_docstring_names():
    # mallopt cannot read settings back, so the module docstring claims fixed values on exit; check each
    out = subprocess.run(
        [sys.executable, "-c", MALLOPT_PROBE],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    probe = json.loads(out.stdout)
    mmapped, kept = probe["inside"]
    assert not mmapped and kept >= 127  # inside: large blocks from the heap, and nothing trimmed
    mmapped, kept_32, kept_128 = probe["after"]
    assert mmapped  # M_MMAP_MAX is no longer 0
    assert (
        kept_32 >= 31 and kept_128 <= 65
    )  # M_TRIM_THRESHOLD 64 MB: a 32 MB free top stays, above 64 MB it goes
