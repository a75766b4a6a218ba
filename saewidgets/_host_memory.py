"""Keep freed host memory for reuse while training on a CPU (glibc only; elsewhere a no-op).

A training step allocates the same few [batch, d_sae] tensors every step (pre-activations, activations,
their gradients): 64 MB each at batch 4096, d_sae 4096. glibc serves every allocation above 32 MB with a
fresh mmap and returns it with munmap when freed, so each step the kernel zero-fills those pages again on
first touch: measured at those shapes on 2 cores, a fifth of the step went to page faults (bench/). Inside
``reuse_freed_memory()`` malloc takes large blocks from its heap and keeps what is freed, so the next step
reuses the same pages.

On exit from the outermost block the held memory is returned to the system (``malloc_trim``), large blocks are
mmapped again (M_MMAP_MAX back to glibc's default, 65536) and a free heap top above 64 MB is trimmed again
(M_TRIM_THRESHOLD = 64 MB). These are fixed values, not the ones in force before the block: mallopt cannot read
a setting back, so one made earlier (by GLIBC_TUNABLES or another mallopt call) is not restored, and glibc's
dynamic mmap threshold, which any such mallopt call switches off, stays off for the rest of the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import platform
import threading
from collections.abc import Iterator

# mallopt parameters, from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
DEFAULT_MMAP_MAX = 65536  # glibc's default number of mmapped blocks
# On exit: trim the heap top above 64 MB, what glibc's dynamic threshold reaches at most (2 x its 32 MB mmap
# threshold). Setting any of these turns that dynamic adjustment off for the rest of the process.
RESTORED_TRIM_THRESHOLD = 64 << 20
HELD_TRIM_THRESHOLD = 2**31 - 1  # mallopt takes an int: ~2 GB, i.e. never trim while training

_lock = threading.Lock()
_depth = 0


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt, libc.malloc_trim  # noqa: B018 - both must exist
    except (OSError, AttributeError):
        return None
    return libc


@contextlib.contextmanager
def reuse_freed_memory(enabled: bool = True) -> Iterator[bool]:
    """Within the block, freed large host allocations stay in the process for reuse. Yields whether that is in
    effect (False off glibc, or with ``enabled=False``). Re-entrant; the outermost block's exit gives the memory
    back and resets the two settings (to fixed values: see the module docstring)."""
    global _depth
    libc = _glibc() if enabled else None
    if libc is None:
        yield False
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(
                M_MMAP_MAX, 0
            )  # large blocks from the heap too (mmap stays the fallback when it is full)
            libc.mallopt(M_TRIM_THRESHOLD, HELD_TRIM_THRESHOLD)
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
                libc.mallopt(M_TRIM_THRESHOLD, RESTORED_TRIM_THRESHOLD)
                libc.malloc_trim(0)  # give back what the block held
