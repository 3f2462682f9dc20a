"""Peak RSS of this process, as benchmark cases report it.

`getrusage(RUSAGE_SELF).ru_maxrss` is the wrong figure for a process started by another: Linux carries the
parent's high-water mark through fork and exec into the child's, so every case started by a runner that had
generated 5M-row frames reported at least the runner's own peak. `VmHWM` in /proc/self/status is the peak of
this process's own memory since its exec (native allocations included).
"""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mib() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # elsewhere: KiB on Linux, bytes on macOS
