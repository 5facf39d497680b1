"""A Linux timerfd through ctypes: a kernel high-resolution timer the event loop can watch.

epoll's own timeout is whole milliseconds, which is why asyncio's timers fire up to ~1.3 ms
late. A timerfd becomes readable at its instant (a high-resolution timer with no slack), and
the loop, watching it like any socket, wakes at once: sub-millisecond precision without
blocking the loop or starting a thread. Not available elsewhere: `TimerFd.create()` then
returns None and the pacer falls back to a short blocking sleep.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys

_CLOCK_MONOTONIC = 1  # the clock time.perf_counter_ns reads on Linux


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class TimerFd:
    def __init__(self, libc: ctypes.CDLL, fd: int) -> None:
        self._settime = libc.timerfd_settime
        self.fd = fd

    @classmethod
    def create(cls) -> TimerFd | None:
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            libc.timerfd_create.argtypes = [ctypes.c_int, ctypes.c_int]
            libc.timerfd_settime.argtypes = [
                ctypes.c_int,
                ctypes.c_int,
                ctypes.POINTER(_Itimerspec),
                ctypes.c_void_p,
            ]
            fd = libc.timerfd_create(_CLOCK_MONOTONIC, os.O_NONBLOCK | os.O_CLOEXEC)
        except (OSError, AttributeError):
            return None
        return cls(libc, fd) if fd >= 0 else None

    def arm(self, delay_ns: int) -> None:
        """Fire once, delay_ns from now (at least 1 ns: zero would disarm it)."""
        delay_ns = max(1, delay_ns)
        value = _Timespec(delay_ns // 1_000_000_000, delay_ns % 1_000_000_000)
        spec = _Itimerspec(_Timespec(0, 0), value)
        if self._settime(self.fd, 0, ctypes.byref(spec), None) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))

    def clear(self) -> None:
        """Consume the expiry, so that the descriptor stops being readable."""
        with contextlib.suppress(BlockingIOError):
            os.read(self.fd, 8)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:
        # A run's clock drops its pacer with the run's loop without stopping it: the descriptor
        # goes with the object (never twice: close() marks it closed).
        self.close()
