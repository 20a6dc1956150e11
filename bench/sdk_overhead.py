"""Per-task-run overhead of the SDK, next to the floor (and Prefect 3 when available).

    python bench/sdk_overhead.py            (or: make bench)
    PREFECT_PYTHON=/path/to/python-with-prefect python bench/sdk_overhead.py

Prints one table: microseconds per task run (median of several flow runs) for
a direct call, `.submit()` + result and `.map()` + result, at N = 1,000 and
10,000 task runs in one flow, with a MemorySink installed and the console at
WARNING (events are built and kept; console lines are not written). The floor
is a plain function call and ThreadPoolExecutor.submit + result. Then the
import time of `sdk` and the peak RSS of one flow with 100,000 task runs.

Every measurement runs in a fresh subprocess (`--worker ...`), so imports,
thread pools and memory don't leak from one into the next.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1_000, 10_000)
MODES = ("direct", "submit", "map")
LABELS = {
    "plain": "plain function call (floor)",
    "executor": "ThreadPoolExecutor.submit+result (floor)",
    "direct": "direct call t(x)",
    "submit": ".submit(x) + .result()",
    "map": ".map(xs) + .result()",
}
TARGETS = {"direct": 30, "submit": 60}
REPEATS = {1_000: 7, 10_000: 3}


# -- workers (run in a subprocess) ---------------------------------------------------------

def _floor(mode: str, n: int, repeats: int) -> list[float]:
    from concurrent.futures import ThreadPoolExecutor

    def inc(x: int) -> int:
        return x + 1

    samples = []
    for _ in range(repeats):
        if mode == "plain":
            start, cpu = time.perf_counter(), time.process_time()
            for i in range(n):
                inc(i)
        else:
            with ThreadPoolExecutor() as pool:
                start, cpu = time.perf_counter(), time.process_time()
                futures = [pool.submit(inc, i) for i in range(n)]
                for f in futures:
                    f.result()
        samples.append(_per_run(start, cpu, n))
    return samples


def _per_run(start: float, cpu: float, n: int) -> tuple[float, float]:
    """(wall, cpu) microseconds per task run since `start`/`cpu`; cpu counts every thread."""
    return (time.perf_counter() - start) / n * 1e6, (time.process_time() - cpu) / n * 1e6


def _engine(lib: str, mode: str, n: int, repeats: int) -> list[float]:
    if lib == "sdk":
        import logging

        import sdk.events
        from sdk import flow, task

        logging.getLogger("sdk").setLevel(logging.WARNING)
        sdk.events.set_sink(sdk.events.MemorySink())
    else:
        from prefect import flow, task

    @task
    def inc(x: int) -> int:
        return x + 1

    @flow
    def workload() -> tuple[float, float]:
        start, cpu = time.perf_counter(), time.process_time()
        if mode == "direct":
            for i in range(n):
                inc(i)
        elif mode == "submit":
            futures = [inc.submit(i) for i in range(n)]
            for f in futures:
                f.result()
        else:
            inc.map(range(n)).result()
        return _per_run(start, cpu, n)

    return [workload() for _ in range(repeats)]


def _rss_100k() -> dict:
    import logging
    import resource

    import sdk.events
    from sdk import flow, task

    class CountingSink(sdk.events.NullSink):
        """Builds-and-drops, as the shipping sink does once a batch is sent."""

        count = 0

        def emit(self, event: dict) -> None:
            CountingSink.count += 1

    logging.getLogger("sdk").setLevel(logging.WARNING)
    sdk.events.set_sink(CountingSink())

    @task
    def inc(x: int) -> int:
        return x + 1

    @flow
    def hundred_thousand() -> int:
        return len(inc.map(range(100_000)).result())

    start = time.perf_counter()
    runs = hundred_thousand()
    return {
        "runs": runs,
        "seconds": time.perf_counter() - start,
        "events": CountingSink.count,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _worker(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "floor":
        out = _floor(argv[1], int(argv[2]), int(argv[3]))
    elif kind == "engine":
        out = _engine(argv[1], argv[2], int(argv[3]), int(argv[4]))
    elif kind == "import":
        start = time.perf_counter()
        import sdk  # noqa: F401

        out = (time.perf_counter() - start) * 1e3
    else:
        out = _rss_100k()
    print("RESULT " + json.dumps(out))


# -- driver ---------------------------------------------------------------------------------

def _run(python: str, *args: object, env: dict | None = None) -> object:
    cmd = [python, str(Path(__file__).resolve()), "--worker", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")


def _median(samples: list) -> tuple[float, float]:
    """Median wall time per run, and the CPU time of that same sample."""
    return sorted((tuple(s) for s in samples), key=lambda s: s[0])[len(samples) // 2]


def main() -> None:
    me = sys.executable
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    prefect = os.environ.get("PREFECT_PYTHON")
    prefect_env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING")
    prefect_sizes = tuple(int(s) for s in os.environ.get("PREFECT_BENCH_SIZES", "1000").split(","))

    rows: dict[str, dict[int, tuple[float, float]]] = {}
    prefect_rows: dict[str, dict[int, tuple[float, float]]] = {}
    for n in SIZES:
        reps = REPEATS[n]
        for mode in ("plain", "executor"):
            rows.setdefault(mode, {})[n] = _median(_run(me, "floor", mode, n, reps, env=env))
        for mode in MODES:
            rows.setdefault(mode, {})[n] = _median(_run(me, "engine", "sdk", mode, n, reps, env=env))
            if prefect and n in prefect_sizes:
                prefect_rows.setdefault(mode, {})[n] = _median(
                    _run(prefect, "engine", "prefect", mode, n, 1 if n > 1000 else 3, env=prefect_env))

    imports = [_run(me, "import", env=env) for _ in range(5)]
    big = _run(me, "rss", env=env)

    head = f"{'µs per task run (median wall / cpu)':42s}" + "".join(f"{f'N={n:,}':>16s}" for n in SIZES)
    head += f"{'target':>9s}"
    if prefect:
        head += "".join(f"{f'prefect N={n:,}':>18s}{'ratio':>8s}" for n in prefect_sizes)
    print("SDK overhead per task run: MemorySink installed, console at WARNING; wall clock and")
    print("process CPU time (all threads) on this machine, now. Each row: a fresh process.")
    print(head)
    print("-" * len(head))
    for mode in ("plain", "executor", *MODES):
        line = f"{LABELS[mode]:42s}" + "".join(f"{rows[mode][n][0]:9.2f} /{rows[mode][n][1]:5.1f}" for n in SIZES)
        line += f"{('< ' + str(TARGETS[mode])) if mode in TARGETS else '':>9s}"
        if prefect:
            for n in prefect_sizes:
                theirs = prefect_rows.get(mode, {}).get(n)
                if theirs is None:
                    line += f"{'':>18s}{'':>8s}"
                else:
                    line += f"{theirs[0]:18.1f}{theirs[0] / rows[mode][n][0]:7.0f}x"
        print(line)
    print("-" * len(head))
    print(f"{'import sdk, ms (median of 5)':42s}{statistics.median(imports):9.1f}{'':23s}{'< 150':>9s}")
    print(f"{'100,000 runs via .map() in one flow, MB':42s}{big['peak_rss_mb']:9.0f}{'peak RSS':>23s}{'< 300':>9s}"
          f"   ({big['seconds']:.1f} s; {big['events']:,} events built, then dropped as a shipped batch is)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(sys.argv[2:])
    else:
        main()
