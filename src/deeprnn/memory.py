"""How much memory is free, and refusing work that would not fit before allocating any of it.

A run that asks NumPy for more than the machine has fails deep inside an allocation (or, with
overcommit, is killed later by the kernel). The trainer, the sampler and the explainer instead
estimate what they will need from the sizes they are given, and `check_memory` refuses at once,
with both numbers, when the estimate exceeds `available_bytes()`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MemoryLimitError", "available_bytes", "format_bytes", "check_memory"]


class MemoryLimitError(MemoryError):
    """Refused before starting: the work would need more memory than is available."""

    def __init__(self, what: str, needed: int, available: int, hint: str = "") -> None:
        self.needed, self.available = needed, available
        message = (
            f"{what} needs about {format_bytes(needed)} of memory, more than the {format_bytes(available)} available"
        )
        super().__init__(message + (f"; {hint}" if hint else ""))


def format_bytes(n: float) -> str:
    """``1536 -> '1.5 KiB'``: binary units, three significant digits."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:,.0f} bytes" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().split()[0]
    except (OSError, IndexError):
        return None
    return int(text) if text.isdigit() else None  # cgroup v2 writes "max" for no limit


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def available_bytes() -> int | None:
    """Memory this process can still use, in bytes (None where the system does not say).

    The smallest of: the kernel's estimate of available memory (MemAvailable), the room left
    under the container's cgroup limit (v2 ``memory.max``, v1 ``memory.limit_in_bytes``), and
    the room left under this process's address-space limit (``ulimit -v``).
    """
    candidates = [_meminfo_available()]
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < 1 << 60:
            candidates.append(max(limit - usage, 0))
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm") as f:
                vsize = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            candidates.append(max(soft - vsize, 0))
    except (ImportError, OSError, ValueError, IndexError):
        pass
    known = [c for c in candidates if c is not None]
    return min(known) if known else None


def check_memory(needed: int, what: str, hint: str = "") -> None:
    """Raise MemoryLimitError when ``needed`` bytes exceed what is available (unknown: pass)."""
    available = available_bytes()
    if available is not None and needed > available:
        raise MemoryLimitError(what, int(needed), available, hint)
