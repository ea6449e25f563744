"""How many CPU threads a call trains and infers on: the thread policy and the context manager that applies it.

``SKDEEPCLUST_NUM_THREADS`` set to a positive integer fixes the count. Unset, empty or ``auto``, the count is
the number of cores that are idle when the call starts (measured over :data:`SAMPLE_SECONDS` from the kernel's
CPU counters), at least one and at most the caller's ``torch.get_num_threads()``: on a machine of its own a fit
uses every core, beside busy programs it leaves their cores to them, where extra threads only wait.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator

import torch
from threadpoolctl import threadpool_limits

from . import _config

__all__ = ["SAMPLE_SECONDS", "idle_cores", "thread_count", "thread_limit"]

#: how long the CPU counters are sampled to count the idle cores
SAMPLE_SECONDS = 0.1
#: how long one measurement is reused (repeated ``predict`` calls do not each wait :data:`SAMPLE_SECONDS`)
_REUSE_SECONDS = 5.0
_last: tuple[float, float | None] | None = None  # (monotonic time, idle cores) of the last measurement


def _usable_cpus() -> list[int] | None:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return None


def _cpu_times(cpus: list[int]) -> tuple[int, int] | None:
    """``(busy, total)`` jiffies summed over ``cpus`` from ``/proc/stat``, or ``None`` where it cannot be read."""
    try:
        with open("/proc/stat") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    wanted = {f"cpu{i}" for i in cpus}
    busy = total = 0
    for line in lines:
        fields = line.split()
        if fields and fields[0] in wanted:
            ticks = [int(t) for t in fields[1:9]]  # user nice system idle iowait irq softirq steal
            total += sum(ticks)
            busy += sum(ticks) - ticks[3] - ticks[4]
    return (busy, total) if total else None


def _measure() -> float | None:
    cpus = _usable_cpus()
    if cpus is not None:
        before = _cpu_times(cpus)
        if before is not None:
            time.sleep(SAMPLE_SECONDS)
            after = _cpu_times(cpus)
            if after is not None and after[1] > before[1]:
                busy_share = (after[0] - before[0]) / (after[1] - before[1])
                return len(cpus) * (1.0 - busy_share)
    try:  # no per-CPU counters (macOS, BSD): the one-minute load average
        return max(0.0, (os.cpu_count() or 1) - os.getloadavg()[0])
    except (AttributeError, OSError):  # Windows
        return None


def idle_cores() -> float | None:
    """The number of idle cores this process may run on, or ``None`` where the platform does not say.

    Measured from the kernel's per-CPU counters over :data:`SAMPLE_SECONDS` on Linux, from the one-minute load
    average elsewhere; a measurement is reused for a few seconds.

    Returns
    -------
    float or None
    """
    global _last
    now = time.monotonic()
    if _last is None or now - _last[0] > _REUSE_SECONDS:
        _last = (now, _measure())
    return _last[1]


def thread_count() -> int:
    """The thread count of the next call under the policy of this module (see the module's docstring).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``SKDEEPCLUST_NUM_THREADS`` holds anything but a positive integer or ``auto``.
    """
    fixed = _config.num_threads()
    if fixed is not None:
        return fixed
    cap = torch.get_num_threads()
    if cap <= 1:
        return cap
    idle = idle_cores()
    if idle is None:
        return cap
    return max(1, min(cap, math.floor(idle + 0.5)))


@contextlib.contextmanager
def thread_limit() -> Iterator[int]:
    """Run the block on :func:`thread_count` threads of torch and the BLAS/OpenMP libraries, then restore them.

    When the count differs from the caller's ``torch.get_num_threads()`` (or ``SKDEEPCLUST_NUM_THREADS`` fixes
    it), ``torch.set_num_threads`` and :func:`threadpoolctl.threadpool_limits` set it for the block; the caller's
    count and library limits are restored when it ends, also when it raises.

    Yields
    ------
    int
        The thread count in force.

    Raises
    ------
    ValueError
        If ``SKDEEPCLUST_NUM_THREADS`` holds anything but a positive integer or ``auto``.
    """
    n = thread_count()
    torch_threads = torch.get_num_threads()
    if n == torch_threads and _config.num_threads() is None:
        yield n
        return
    limits = threadpool_limits(limits=n)
    try:
        torch.set_num_threads(n)
        yield n
    finally:
        limits.restore_original_limits()
        torch.set_num_threads(torch_threads)  # last: torch's OpenMP runtime may be one of the libraries above
