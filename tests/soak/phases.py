"""The soak's phases: load on one and two servers, faults mid-load, retention under load, hostile input.

Each phase returns a Row for the summary table. A phase that loses or duplicates anything,
or sees an HTTP 500, fails the soak. New faults (a worker SIGKILLed mid-run, the dashboard's
live updates) are added by writing a function and listing it in FAULTS.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cpu_meter import CpuMeter, CpuSample, children_of
from tests.shipping.live_server import ROOT
from tests.soak.cluster import Cluster, Comparison, sigkill
from tests.soak.worker_fault import kill_worker


@dataclass
class Row:
    phase: str
    processes: int = 0
    events: int = 0
    events_per_s: float | None = None
    p95_ms: float | None = None
    comparison: Comparison | None = None
    server_errors: int = 0
    note: str = ""
    problem: str = ""  # a failure that is not a lost or duplicated event
    cpu: CpuSample | None = None  # CPU each part took during the phase

    @property
    def failed(self) -> bool:
        return (self.comparison is not None and not self.comparison.exact) or self.server_errors > 0 \
            or bool(self.problem)


@dataclass
class Size:
    processes: int
    tasks: int
    fault_processes: int
    fault_tasks: int
    retention_rows: int
    contract_examples: int


def run_load(cluster: Cluster, servers: int, size: Size, name: str) -> Row:
    cluster.clear()
    targets = cluster.servers[:servers]
    for server in targets:
        running(server)
    errors_before = cluster.server_errors()
    histograms = cluster.latency_buckets(targets)
    meter = load_meter(cluster, targets)
    meter.start()
    started = time.monotonic()
    runs = [cluster.sdk_process(targets[i % servers], size.tasks) for i in range(size.processes)]
    problems = cluster.wait_all([proc for proc, _ in runs], timeout=1800)
    elapsed = time.monotonic() - started
    cpu = meter.stop()
    comparison = cluster.compare([ids for _, ids in runs])
    return Row(name, size.processes, comparison.expected, comparison.expected / elapsed,
               _ms(cluster.latency_p95(targets, histograms)), comparison, cluster.server_errors() - errors_before,
               "; ".join(problems)[:200], cpu=cpu)


def load_meter(cluster: Cluster, servers: list) -> CpuMeter:
    """CPU of each server process, the private PostgreSQL, and the SDK processes (reaped when they end)."""
    parts = {f"server {i + 1}": (lambda s=s: [s.proc.pid] if s.running else []) for i, s in enumerate(servers)}
    parts["PostgreSQL"] = children_of(cluster.postgres.postmaster_pid())
    return CpuMeter(parts, reaped_children="SDK processes")


def running(server) -> None:
    if not server.running:
        server.start()


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def fault_under_load(cluster: Cluster, size: Size, name: str, inject) -> Row:
    """Start a load on server 0, inject the fault once rows arrive, then compare exactly."""
    cluster.clear()
    server = cluster.servers[0]
    running(server)
    errors_before = cluster.server_errors()
    runs = [cluster.sdk_process(server, size.fault_tasks) for _ in range(size.fault_processes)]
    cluster.wait_stored("orchestrator_taskrun", max(1, size.fault_tasks // 10), timeout=300)
    note = inject(cluster) or ""
    problems = cluster.wait_all([proc for proc, _ in runs], timeout=1800)
    comparison = cluster.compare([ids for _, ids in runs])
    return Row(name, size.fault_processes, comparison.expected, comparison=comparison,
               server_errors=cluster.server_errors() - errors_before, note=("; ".join([note, *problems]))[:200],
               problem=note if "FAILED" in note else "")


def kill_server(cluster: Cluster) -> str:
    server = cluster.servers[0]
    cluster.kill(server)
    time.sleep(1.0)
    server.start()
    return "SIGKILL + restart"


def restart_postgres(cluster: Cluster) -> str:
    cluster.postgres.stop()
    seen = {cluster.readyz(cluster.servers[0]) for _ in range(3)}
    time.sleep(1.0)
    cluster.postgres.start()
    return f"/readyz while down: {sorted(seen)}"


def restart_redis(cluster: Cluster) -> str:
    cluster.redis.stop()
    down = cluster.readyz(cluster.servers[0])
    cluster.redis.start()
    round_trip = channel_round_trip(cluster.redis.url)
    return f"/readyz while down: {down}; group round trip after: {'ok' if round_trip else 'FAILED'}"


def channel_round_trip(redis_url: str) -> bool:
    """A message sent to a group through one channel layer reaches a consumer on another."""
    import asyncio

    from channels_redis.core import RedisChannelLayer

    async def trip() -> bool:
        sender, receiver = RedisChannelLayer(hosts=[redis_url]), RedisChannelLayer(hosts=[redis_url])
        channel = await receiver.new_channel()
        await receiver.group_add("soak-live", channel)
        await sender.group_send("soak-live", {"type": "soak.ping", "n": 1})
        message = await asyncio.wait_for(receiver.receive(channel), 10)
        await receiver.group_discard("soak-live", channel)
        await sender.close_pools()
        await receiver.close_pools()
        return message.get("n") == 1

    try:
        return asyncio.run(trip())
    except Exception:
        return False


def kill_sdk_process(cluster: Cluster, size: Size) -> Row:
    """The server is away; an SDK process spools its flow and is SIGKILLed; the next process
    reporting with the same ORCHESTRATOR_HOME delivers what it spooled."""
    cluster.clear()
    server = cluster.servers[0]
    errors_before = cluster.server_errors()
    cluster.kill(server)
    home = cluster.workdir / "home-sdk-kill"
    proc, first_ids = cluster.sdk_process(server, size.fault_tasks, mode="spool-wait", home=home, flush_timeout=300)
    line = proc.stdout.readline().strip()
    sigkill(proc)
    server.start()
    next_proc, next_ids = cluster.sdk_process(server, 1, home=home)
    problems = cluster.wait_all([next_proc], timeout=900)
    comparison = cluster.compare([first_ids, next_ids])
    note = f"killed after {line or 'no output'}"
    return Row("fault: SDK process SIGKILL", 2, comparison.expected, comparison=comparison,
               server_errors=cluster.server_errors() - errors_before, note="; ".join([note, *problems])[:200])


def retention_under_load(cluster: Cluster, size: Size) -> Row:
    """Prune `retention_rows` old log rows while an SDK load ingests; the load must stay exact."""
    cluster.clear()
    server = cluster.servers[0]
    running(server)
    cluster.db._query(
        "INSERT INTO orchestrator_log (id, level, logger, message, timestamp, seq, stored_by) "
        f"SELECT md5(g::text || 'old')::uuid, 20, 'old', 'old line ' || g, now() - interval '90 days', g, 'soak' "
        f"FROM generate_series(1, {size.retention_rows}) g"
    )
    errors_before = cluster.server_errors()
    result: dict = {}

    def prune() -> None:
        started = time.monotonic()
        out = subprocess.run([sys.executable, "manage.py", "prune", "--older-than", "30d", "--batch-size", "10000"],
                             cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=1800)
        result["out"] = out.stdout + out.stderr
        result["seconds"] = time.monotonic() - started

    histograms = cluster.latency_buckets([server])
    pruner = threading.Thread(target=prune)
    started = time.monotonic()
    runs = [cluster.sdk_process(server, size.fault_tasks) for _ in range(size.fault_processes)]
    pruner.start()
    problems = cluster.wait_all([proc for proc, _ in runs], timeout=1800)
    elapsed = time.monotonic() - started
    pruner.join(1800)
    old_left = cluster.db._query("SELECT COUNT(*) FROM orchestrator_log WHERE logger = 'old'")[0][0]
    cluster.db._query("DELETE FROM orchestrator_log WHERE logger = 'old'")  # so the comparison sees only the load
    comparison = cluster.compare([ids for _, ids in runs])
    note = f"pruned {size.retention_rows} old rows in {result.get('seconds', float('nan')):.0f}s, {old_left} left"
    return Row("retention: prune under load", size.fault_processes, comparison.expected,
               comparison.expected / elapsed, _ms(cluster.latency_p95([server], histograms)), comparison,
               cluster.server_errors() - errors_before, "; ".join([note, *problems])[:200],
               problem=f"{old_left} old rows not pruned: {result.get('out', '')[-300:]}" if old_left else "")


def hostile_input(cluster: Cluster, size: Size, workdir: Path) -> Row:
    """Schemathesis against a live server, plus the hostile-input test modules (their inputs and 5xx counted)."""
    from tests.reliability.contract import run_contract
    from tests.soak.hostile_tests import run_hostile_tests

    cluster.clear()
    server = cluster.servers[0]
    running(server)
    errors_before = cluster.server_errors()
    run = run_contract(cluster.base(server), cluster.key, workdir, examples=size.contract_examples, seed=None)
    suites = run_hostile_tests(workdir)
    row = Row("hostile inputs tried", 1, run.generated + suites.inputs,
              server_errors=cluster.server_errors() - errors_before + run.server_errors + suites.server_errors,
              note=f"schemathesis {run.generated} cases, {run.failures} contract failures; hostile-input tests "
                   f"{suites.inputs} inputs ({suites.cases} cases, {suites.examples} generated), "
                   f"{suites.requests} requests, {suites.server_errors} 5xx")
    problems = []
    if run.returncode != 0 or run.failures:
        (workdir / "schemathesis.txt").write_text(run.output)
        problems.append(f"schemathesis failed (output: {workdir / 'schemathesis.txt'})")
    if suites.failed:
        (workdir / "hostile-tests.txt").write_text(suites.output)
        problems.append(f"{suites.failed} hostile-input tests failed (output: {workdir / 'hostile-tests.txt'})")
    row.problem = "; ".join(problems)
    return row


FAULTS = [
    ("fault: server SIGKILL", kill_server),
    ("fault: PostgreSQL restart", restart_postgres),
    ("fault: Redis restart", restart_redis),
    ("fault: worker SIGKILL mid-run", kill_worker),
]
