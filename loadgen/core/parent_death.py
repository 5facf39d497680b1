"""A child process that ends with its parent: the kernel's parent-death signal (Linux).

Worker processes and the emulator child both ask for it, so that a parent killed outright
(SIGKILL, a crash) leaves no process behind sending load or holding a port.
"""

from __future__ import annotations

import ctypes
import sys

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def set_parent_death_signal(signum: int) -> bool:
    """Have the kernel send `signum` to this process when the thread that started it ends
    (prctl PR_SET_PDEATHSIG). False where that is not available (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
