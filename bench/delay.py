"""Benchmark: `.delay()` round trips and retry latency on Redis, beside a raw Celery floor.

    .venv/bin/python bench/delay.py [--runs 1000] [--sequential 200] [--retries 50] [--rounds 3]

Starts a real stack (Daphne on a fresh SQLite database, or PostgreSQL when
DATABASE_URL points at one; Redis at BENCH_REDIS_URL, default redis://127.0.0.1:6379/0;
task workers started with `python -m sdk serve`) and measures, in one run:

- floor: raw Celery round trips of a no-op task (send, then AsyncResult.get() on a Redis
  result backend), one worker process (threads pool, `--concurrency`, default 4: the same as ours);
- `.delay()` of a no-op task, submit to `.result()`, with 1 and 2 worker processes:
  pipelined (submit all, then collect every result) and sequential (p50/p95);
- pipelined, the floor and ours take turns, `--rounds` times (the machine's speed drifts by a
  fifth from minute to minute): medians, and the ratio is the median of each round's own ratio;
- the CPU time the server (Daphne) and the worker processes spent per pipelined run;
- retry: from the retry API call to the run reaching Running (its Retrying state's
  timestamp, taken on the same clock), p50/p95.

Targets (issue 12): pipelined throughput >= 60 % of raw Celery; sequential p50 < 10 ms;
retry-to-Running p95 < 500 ms. Prints one table.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from statistics import median
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REDIS = os.environ.get("BENCH_REDIS_URL", os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
os.environ.setdefault("ORCHESTRATOR_LOGGING_LEVEL", "WARNING")
os.environ["BENCH_REDIS_URL"] = REDIS

from tests.workers.harness import running_stack  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class RawCeleryFloor:
    """A raw Celery worker (threads pool, no-op task, Redis result backend), kept up for the whole run so
    its measurements can alternate with ours."""

    def __init__(self, concurrency: int) -> None:
        from bench.celery_floor import app

        self.app = app
        self.queue = f"bench-floor-{uuid.uuid4().hex[:8]}"
        log = open(os.devnull, "wb")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "bench.celery_floor", "worker", "-P", "threads",
             "-c", str(concurrency), "-Q", self.queue, "-l", "WARNING", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=ROOT, env={**os.environ, "BENCH_REDIS_URL": REDIS}, stdout=log, stderr=log, start_new_session=True,
        )
        self.app.send_task("bench.noop", queue=self.queue).get(timeout=60)  # the worker is up

    def pipelined(self, runs: int) -> float:
        started = time.perf_counter()
        results = [self.app.send_task("bench.noop", queue=self.queue) for _ in range(runs)]
        for r in results:
            r.get(timeout=120)
        return runs / (time.perf_counter() - started)

    def sequential(self, runs: int) -> list[float]:
        latencies = []
        for _ in range(runs):
            t0 = time.perf_counter()
            self.app.send_task("bench.noop", queue=self.queue).get(timeout=60)
            latencies.append(time.perf_counter() - t0)
        return latencies

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def delay_pipelined(runs: int, server_pid: int, worker_pids: list[int]) -> tuple[float, float, float]:
    """(throughput, server and worker CPU ms per run) of `runs` no-op `.delay()` calls, then every result."""
    from tests.workers.served import no_op

    no_op.delay().result(timeout=60)  # warm: connections, worker threads
    server_cpu, worker_cpu = cpu_seconds(server_pid), sum(cpu_seconds(p) for p in worker_pids)
    started = time.perf_counter()
    futures = [no_op.delay() for _ in range(runs)]
    for f in futures:
        f.result(timeout=300)
    throughput = runs / (time.perf_counter() - started)
    server_ms = (cpu_seconds(server_pid) - server_cpu) / runs * 1000
    worker_ms = (sum(cpu_seconds(p) for p in worker_pids) - worker_cpu) / runs * 1000
    return throughput, server_ms, worker_ms


def delay_sequential(runs: int) -> list[float]:
    from tests.workers.served import no_op

    latencies = []
    for _ in range(runs):
        t0 = time.perf_counter()
        no_op.delay().result(timeout=60)
        latencies.append(time.perf_counter() - t0)
    return latencies


def retry_to_running(stack, retries: int) -> list[float]:
    from tests.workers.served import fails_on_first_attempt

    futures = [fails_on_first_attempt.delay(f"r{i}") for i in range(retries)]
    for f in futures:
        f.wait(120)
    latencies = []
    for f in futures:
        requested = datetime.now(timezone.utc)
        response = stack.admin.post(f"/task-runs/{f.task_run_id}/retry/")
        assert response.status_code == 202, response.text
        stack.admin.get(f"/task-runs/{f.task_run_id}/wait/", params={"timeout": 60})
        states = stack.states(f.task_run_id)
        retrying = next(s for s in states if s["name"] == "Retrying")
        latencies.append((datetime.fromisoformat(retrying["timestamp"]) - requested).total_seconds())
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--retries", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4, help="threads per worker process, floor and ours")
    parser.add_argument("--rounds", type=int, default=3, help="pipelined rounds, the floor's and ours in turn (medians)")
    args = parser.parse_args()

    rows: list[tuple[str, ...]] = []
    floor = RawCeleryFloor(args.concurrency)
    try:
        with running_stack(REDIS) as stack:
            os.environ.update(stack.sdk_env())
            served = ["tests.workers.served:no_op", "tests.workers.served:fails_on_first_attempt"]
            ratios: list[float] = []
            for workers in (1, 2):
                while len(stack.workers) < workers:
                    # As the floor's worker: WARNING (INFO logs two lines per run, a sixth of a worker's CPU).
                    stack.start_worker(*served, concurrency=args.concurrency, loglevel="WARNING")
                pids = (stack.server.proc.pid, [w.pid for w in stack.workers])
                floors, ours = [], []
                for _ in range(args.rounds):  # the floor and ours in turn: the machine's drift hits both
                    if workers == 1:
                        floors.append(floor.pipelined(args.runs))
                    ours.append(delay_pipelined(args.runs, *pids))
                    if workers == 1:
                        ratios.append(ours[-1][0] / floors[-1])
                if workers == 1:
                    floor_lat = floor.sequential(args.sequential)
                    rows.append(("raw Celery no-op (floor), 1 worker", f"{median(floors):8.0f}/s",
                                 f"{pct(floor_lat, .5) * 1000:7.1f} ms", f"{pct(floor_lat, .95) * 1000:7.1f} ms", "", ""))
                lat = delay_sequential(args.sequential)
                tp, server_ms, worker_ms = (median(column) for column in zip(*ours))
                rows.append((f".delay() no-op, {workers} worker process{'es' if workers > 1 else ''}", f"{tp:8.0f}/s",
                             f"{pct(lat, .5) * 1000:7.1f} ms", f"{pct(lat, .95) * 1000:7.1f} ms",
                             f"{server_ms:6.1f} ms", f"{worker_ms:6.1f} ms"))
            retry = retry_to_running(stack, args.retries)
            rows.append(("retry API call -> Running", "", f"{pct(retry, .5) * 1000:7.1f} ms", f"{pct(retry, .95) * 1000:7.1f} ms",
                         "", ""))
    finally:
        floor.stop()

    print(f"\nbench/delay.py on {REDIS} ({args.runs} pipelined, {args.sequential} sequential, {args.retries} retries, "
          f"{args.concurrency} threads per worker process)")
    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postg") else "SQLite"
    print(f"(server: one Daphne process on {database}; CPU columns: per pipelined run, the server's and the workers' processes)")
    print(f"{'':42s} {'pipelined':>12s} {'seq p50':>10s} {'seq p95':>10s} {'server CPU':>11s} {'worker CPU':>11s}")
    for name, tp, p50, p95, server_ms, worker_ms in rows:
        print(f"{name:42s} {tp:>12s} {p50:>10s} {p95:>10s} {server_ms:>11s} {worker_ms:>11s}")
    print(f"{'.delay() pipelined vs raw Celery (1 worker)':42s} {median(ratios) * 100:11.0f}%   (target >= 60 %; "
          f"median of {args.rounds} rounds, each ours / the floor's just before: "
          f"{', '.join(f'{r * 100:.0f}%' for r in ratios)})")
    print("targets: sequential p50 < 10 ms; retry -> Running p95 < 500 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
