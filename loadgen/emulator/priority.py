"""Raise the emulator's CPU priority, best effort.

When the emulator shares the cores with a busy load generator (make demo, the tests), the
generator can starve it, and its lateness then becomes part of what the harness measures. With
kernel.sched_autogroup_enabled=1, nice only ranks a process inside its session's group, so the
group's niceness is set too (EmulatorProcess starts the emulator in a session of its own, so
that group holds the emulator alone). Lowering niceness needs privilege: without it, nothing
changes, and the emulator's own lateness statistics say whether that mattered.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

NICENESS = -10


def raise_priority(niceness: int = NICENESS) -> None:
    with contextlib.suppress(OSError):  # PermissionError included
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(f"{niceness}\n")
