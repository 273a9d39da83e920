"""The machine the benchmark shares: how busy it is, and waiting for a quiet moment."""

import os
import time
from pathlib import Path

from servers import process_cpu_seconds

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_SECONDS = 2.0


def busy_seconds() -> float:
    """CPU time the whole machine has spent busy since boot, all cores together."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def busy_cores(seconds: float = SAMPLE_SECONDS) -> float:
    """How many cores were busy on average over the next ``seconds``."""
    before = busy_seconds()
    time.sleep(seconds)
    return (busy_seconds() - before) / seconds


def wait_for_quiet(max_wait: float, threshold: float = 0.3) -> float:
    """Wait up to ``max_wait`` seconds for other work to leave the cores (fewer than ``threshold``
    busy); return the busy cores last seen. On a shared host this keeps other people's test runs
    out of the figures as far as possible, without ever waiting for ever."""
    deadline = time.monotonic() + max_wait
    cores = busy_cores()
    while cores >= threshold and time.monotonic() < deadline:
        print(f"  waiting for a quiet host: {cores:.2f} cores busy", flush=True)
        time.sleep(5)
        cores = busy_cores()
    return cores


def database_backends_cpu(database: str | None) -> dict[int, float]:
    """CPU time of each PostgreSQL backend serving ``database`` (their titles name it), by pid;
    empty without one (SQLite)."""
    backends = {}
    if not database:
        return backends
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
            backends[int(cmdline.parent.name)] = process_cpu_seconds(int(cmdline.parent.name))
    return backends


def database_cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the backends spent between two readings. A backend that ended in between (a recycled
    worker's connection) takes its share with it: a slight undercount, never a negative one."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
