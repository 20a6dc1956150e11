"""Benchmark: what reporting costs a flow, and how soon the server shows the result.

    .venv/bin/python bench/lag.py [--tasks 10000] [--runs 5]

Starts a real server (Daphne on a fresh temporary SQLite database, or a fresh
PostgreSQL database when DATABASE_URL points at one), then runs a flow of
`--tasks` trivial task runs several times with reporting off (NullSink) and on
(ShippingSink to that server), alternating. It prints one table:

- wall time of the flow call, reporting off vs. on (median), and the overhead;
  also with events only kept in memory (never sent): the floor of any
  in-process queue;
- lag: from the flow's return to the moment the database shows every task run
  of that flow run COMPLETED (p50 and max over the runs with reporting on).

Targets (docs/shipping.md): overhead < 20 %, lag p50 < 1 s. Console logging of the
engine is set to WARNING so that both variants measure the engine, not stderr.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ORCHESTRATOR_LOGGING_LEVEL", "WARNING")
os.environ.pop("ORCHESTRATOR_API_URL", None)

from sdk import flow, get_run_context, task  # noqa: E402
from sdk.events import NullSink, set_sink  # noqa: E402
from sdk.shipping import ShippingSink  # noqa: E402
from tests.shipping.live_server import running_server  # noqa: E402


@task
def increment(x: int) -> int:
    return x + 1


@flow
def trivial(n: int) -> str:
    for i in range(n):
        increment(i)
    return str(get_run_context().flow_run.id)


class KeepSink:
    """Keeps events in memory and never sends them: the floor any in-process queue costs
    (holding tens of thousands of live dicts makes the garbage collector work)."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.emit = self.events.append

    def flush(self, timeout: float | None = None) -> bool:
        self.events.clear()
        return True

    def close(self, timeout: float | None = None) -> None:
        pass


class CompletedCounter:
    """Counts a flow run's COMPLETED task runs over one connection kept open: polling every
    10 ms must not itself load the machine (a new PostgreSQL connection per poll forks a backend)."""

    def __init__(self, db) -> None:
        self.sqlite = db.sqlite_path is not None
        if self.sqlite:
            import sqlite3

            self.conn = sqlite3.connect(db.sqlite_path, timeout=30, isolation_level=None)
        else:
            import psycopg

            self.conn = psycopg.connect(db.url, autocommit=True, connect_timeout=10)

    def __call__(self, flow_run_id: str) -> int:
        key = flow_run_id.replace("-", "") if self.sqlite else flow_run_id
        sql = f"SELECT COUNT(*) FROM orchestrator_taskrun WHERE flow_run_id = '{key}' AND state_type = 'COMPLETED'"
        return self.conn.execute(sql).fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lag-timeout", type=float, default=60.0)
    args = parser.parse_args()

    with running_server() as server, tempfile.TemporaryDirectory(prefix="orch-lag-home-") as home:
        shipping = ShippingSink(server.url, server.key, home)
        completed_task_runs = CompletedCounter(server.db)
        null, keep = NullSink(), KeepSink()
        walls: dict[str, list[float]] = {"off": [], "kept": [], "on": []}
        lags: list[float] = []
        for sink in (null, shipping):  # warm-up: imports, connection, first inserts
            set_sink(sink)
            trivial(200)
        assert shipping.flush(60), "warm-up events were not acknowledged"
        for _ in range(args.runs):
            for mode, sink in (("off", null), ("kept", keep), ("on", shipping)):
                set_sink(sink)
                start = time.perf_counter()
                flow_run_id = trivial(args.tasks)
                returned = time.perf_counter()
                walls[mode].append(returned - start)
                if mode == "on":
                    deadline = returned + args.lag_timeout
                    while completed_task_runs(flow_run_id) < args.tasks:
                        if time.perf_counter() > deadline:
                            raise SystemExit(f"the server did not show {args.tasks} completed task runs "
                                             f"within {args.lag_timeout}s")
                        time.sleep(0.01)
                    lags.append(time.perf_counter() - returned)
                sink.flush(60)  # the next run starts from an empty queue
        set_sink(None)
        shipping.close()
        completed_task_runs.close()

    off, kept, on = (statistics.median(walls[mode]) for mode in ("off", "kept", "on"))
    database = "PostgreSQL" if server.db.sqlite_path is None else "SQLite"
    rows = [
        ("flow", f"{args.tasks:,} trivial task runs, {args.runs} runs each, {database}"),
        ("wall, reporting off (median)", f"{off:.3f} s"),
        ("wall, events kept in memory, never sent", f"{kept:.3f} s  ({(kept / off - 1) * 100:+.1f} %: the floor)"),
        ("wall, reporting on (median)", f"{on:.3f} s"),
        ("overhead of reporting", f"{(on / off - 1) * 100:+.1f} %  (target < 20 %)"),
        ("lag to all COMPLETED, p50", f"{statistics.median(lags):.3f} s  (target < 1 s)"),
        ("lag to all COMPLETED, max", f"{max(lags):.3f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))


if __name__ == "__main__":
    main()
