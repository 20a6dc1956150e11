"""CPU seconds taken by each part of a measurement (server processes, PostgreSQL, load clients),
and by the rest of the machine, over the same wall-clock interval, read from /proc.

On a machine of 2 cores shared by PostgreSQL, the servers and the load clients, events/s
alone does not say what bound a run; cores used per part does:

    meter = CpuMeter({"server": lambda: [pid], "PostgreSQL": postgres_pids(db)})
    meter.start(); ...; sample = meter.stop()
    print(sample.describe(events))   # server 0.91 cores (78 µs/event), PostgreSQL 0.55 cores ...

A process that exits during the interval takes its CPU time with it; count such processes
(load clients that are waited for) with `reaped_children=True`, which reads RUSAGE_CHILDREN.
"""
from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    total = sum(values)
    return (total - idle - iowait) / CLOCK_TICKS, total / CLOCK_TICKS


def postgres_processes() -> list[tuple[int, str]]:
    """(pid, title) of every process whose title is a PostgreSQL one ("postgres: ...")."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
        except OSError:
            continue
        if title.startswith("postgres:"):
            found.append((int(proc.name), title))
    return found


def postgres_backends(database: str) -> Callable[[], list[int]]:
    """The client backends connected to `database` (their titles read `user database host(port) ...`)."""
    return lambda: [pid for pid, title in postgres_processes() if f" {database} " in title and "(" in title]


def postgres_background() -> list[int]:
    """PostgreSQL's own processes (WAL writer, checkpointer, autovacuum...): every title without a client address.
    On a cluster others use too, their work is partly theirs."""
    return [pid for pid, title in postgres_processes() if "(" not in title and "[local]" not in title]


def children_of(parent_pid: int) -> Callable[[], list[int]]:
    """A process and its children (e.g. a private PostgreSQL's postmaster and every process it forked)."""
    def pids() -> list[int]:
        found = [parent_pid]
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == parent_pid:
                    found.append(int(proc.name))
        return found
    return pids


def own_cpu_seconds() -> float:
    """This process (all its threads)."""
    times = os.times()
    return times.user + times.system


def reaped_children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuSample:
    wall: float
    seconds: dict[str, float]  # part → CPU seconds over the interval
    machine_busy: float
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)

    @property
    def ours(self) -> float:
        return sum(self.seconds.values())

    @property
    def other(self) -> float:
        """Busy CPU of the machine that none of the measured parts account for (other users, the kernel)."""
        return max(0.0, self.machine_busy - self.ours)

    def cores_used(self, part: str) -> float:
        return self.seconds[part] / self.wall if self.wall else 0.0

    def per_event_us(self, events: int, part: str | None = None) -> float:
        seconds = self.ours if part is None else self.seconds[part]
        return seconds / events * 1e6 if events else 0.0

    def describe(self, events: int) -> str:
        parts = [f"{name} {self.cores_used(name):.2f} ({self.per_event_us(events, name):.0f} µs/event)"
                 for name in self.seconds]
        return (f"cores used: {', '.join(parts)}; other {self.other / self.wall:.2f}; "
                f"machine {self.machine_busy / self.wall:.2f} of {self.cores}")

    def __add__(self, other: CpuSample) -> CpuSample:
        names = dict.fromkeys([*self.seconds, *other.seconds])
        return CpuSample(self.wall + other.wall, {n: self.seconds.get(n, 0.0) + other.seconds.get(n, 0.0) for n in names},
                         self.machine_busy + other.machine_busy, self.cores)


class CpuMeter:
    """CPU seconds of named parts (each a function giving its pids now) over start() .. stop().

    A pid seen at stop but not at start counts from 0 (it started during the interval).
    `own=True` adds this process as "client"; `reaped_children=<name>` adds, under that
    name, the children this process waited for during the interval.
    """

    def __init__(self, parts: dict[str, Callable[[], Iterable[int]]], *, own: str | None = None,
                 reaped_children: str | None = None) -> None:
        self.parts = parts
        self.own = own
        self.reaped_children = reaped_children
        self._start: dict[str, dict[int, float]] = {}

    def _snapshot(self) -> tuple[dict[str, dict[int, float]], float, float, float, float]:
        per_part = {name: {pid: cpu_seconds(pid) for pid in pids()} for name, pids in self.parts.items()}
        busy, _total = machine_seconds()
        return per_part, busy, own_cpu_seconds(), reaped_children_seconds(), time.perf_counter()

    def start(self) -> None:
        self._start_snapshot = self._snapshot()

    def stop(self) -> CpuSample:
        before, busy_before, own_before, reaped_before, wall_before = self._start_snapshot
        after, busy_after, own_after, reaped_after, wall_after = self._snapshot()
        seconds = {}
        for name, pids in after.items():
            seconds[name] = sum(cpu - before[name].get(pid, 0.0) for pid, cpu in pids.items())
        if self.own:
            seconds[self.own] = own_after - own_before
        if self.reaped_children:
            seconds[self.reaped_children] = seconds.get(self.reaped_children, 0.0) + reaped_after - reaped_before
        return CpuSample(wall_after - wall_before, seconds, busy_after - busy_before)
