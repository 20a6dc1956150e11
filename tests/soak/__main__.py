"""`make soak`: load, faults mid-load, retention under load and hostile input; one table at the end.

  python -m tests.soak                    # the default size: a few minutes on 2 cores
  python -m tests.soak --scale 0.2        # smaller (a quick check)
  python -m tests.soak --tasks 2000       # the full load: 20 processes x a flow of 2,000 tasks

Exits 1 when any phase lost or duplicated an event, or a server answered 500.
Everything runs on a private PostgreSQL and a private Redis on free ports.
"""
from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.soak.cluster import Cluster
from tests.soak.phases import FAULTS, Row, Size, fault_under_load, hostile_input, kill_sdk_process, \
    retention_under_load, run_load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=20, help="concurrent SDK processes in the load phases")
    parser.add_argument("--tasks", type=int, default=250, help="tasks in each process's flow (the issue's full size: 2000)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size by this")
    parser.add_argument("--retention-rows", type=int, default=1_000_000)
    parser.add_argument("--contract-examples", type=int, default=50)
    parser.add_argument("--only", default="", help="comma-separated phase prefixes to run (load,fault,retention,hostile)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, id files)")
    args = parser.parse_args()

    def scaled(n: int, least: int = 1) -> int:
        return max(least, int(n * args.scale))

    size = Size(processes=scaled(args.processes, 2), tasks=scaled(args.tasks, 5), fault_processes=scaled(4, 2),
                fault_tasks=scaled(args.tasks, 5), retention_rows=scaled(args.retention_rows, 1000),
                contract_examples=scaled(args.contract_examples, 5))
    only = [p.strip() for p in args.only.split(",") if p.strip()]

    def wanted(name: str) -> bool:
        return not only or any(name.startswith(p) for p in only)

    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the private services are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="orch-soak-"))
    cluster = Cluster(workdir)
    rows: list[Row] = []
    started = time.monotonic()
    try:
        print(f"soak: private PostgreSQL, Redis and two Daphne processes; work directory {workdir}", flush=True)
        cluster.start(servers=2)
        phases = [
            ("load: 1 server", lambda: run_load(cluster, 1, size, "load: 1 server")),
            ("load: 2 servers", lambda: run_load(cluster, 2, size, "load: 2 servers")),
            *[(name, (lambda n=name, f=inject: fault_under_load(cluster, size, n, f))) for name, inject in FAULTS],
            ("fault: SDK process SIGKILL", lambda: kill_sdk_process(cluster, size)),
            ("retention: prune under load", lambda: retention_under_load(cluster, size)),
            ("hostile inputs tried", lambda: hostile_input(cluster, size, workdir)),
        ]
        for name, phase in phases:
            if not wanted(name):
                continue
            print(f"soak: {name} ...", flush=True)
            row = phase()
            rows.append(row)
            print(f"soak: {name}: {describe(row)}", flush=True)
    finally:
        cluster.close()
        if not args.keep and not any(r.failed for r in rows):
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(rows, size, time.monotonic() - started)
    return 1 if any(r.failed for r in rows) else 0


def describe(row: Row) -> str:
    c = row.comparison
    exact = f"lost: {c.lost}, duplicated: {c.duplicated}" if c else "-"
    return f"{row.events} events, {exact}, 500s: {row.server_errors} {row.note} {row.problem}".rstrip()


def fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def server_side_rate(row: Row) -> float:
    """Events per CPU-second of the server processes and PostgreSQL: what the server side would ingest
    with a core to itself, however much of the machine the SDK processes took."""
    seconds = sum(v for k, v in row.cpu.seconds.items() if k.startswith("server") or k == "PostgreSQL")
    return row.events / seconds if seconds else 0.0


def print_table(rows: list[Row], size: Size, seconds: float) -> None:
    print()
    print(f"make soak: {size.processes} SDK processes x {size.tasks} tasks (faults: {size.fault_processes} x "
          f"{size.fault_tasks}), {seconds:.0f}s")
    header = f"{'phase':36} {'procs':>5} {'events':>8} {'events/s':>9} {'p95 ms':>7} {'lost':>5} {'dup':>4} {'5xx':>4}  note"
    print(header)
    print("-" * len(header))
    for row in rows:
        c = row.comparison
        print(f"{row.phase:36} {row.processes:>5} {row.events:>8} {fmt(row.events_per_s, '{:.0f}'):>9} "
              f"{fmt(row.p95_ms, '{:.0f}'):>7} {(c.lost if c else '-'):>5} {(c.duplicated if c else '-'):>4} "
              f"{row.server_errors:>4}  {'FAILED ' if row.failed else ''}{row.note}")
        if row.problem:
            print(f"{'':36}   {row.problem}")
        if row.cpu:
            print(f"{'':36}   {row.cpu.describe(row.events)}")
            print(f"{'':36}   server side: {server_side_rate(row):,.0f} events/s per core of servers + PostgreSQL")
    loads = {r.phase: r for r in rows if r.phase.startswith("load:") and r.events_per_s}
    if len(loads) == 2:
        one, two = loads["load: 1 server"], loads["load: 2 servers"]
        print(f"two servers / one server: {two.events_per_s / one.events_per_s:.2f}x end to end (bounded by the "
              f"SDK processes' CPU on this machine; bench/ingest.py measures the servers' scale-out)")
    for row in rows:
        if row.phase.startswith("hostile"):
            print(f"hostile inputs tried: {row.events}, 5xx seen: {row.server_errors}")
    print(f"soak: {'FAILED' if any(r.failed for r in rows) else 'passed'}")


if __name__ == "__main__":
    sys.exit(main())
