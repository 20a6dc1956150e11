"""The soak's system under test: private PostgreSQL and Redis, Daphne processes, SDK processes,
and the exact comparison of what the SDK processes emitted with what the database holds."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.shipping.live_server import ROOT, Database, Server, expected_rows, wait_until
from tests.soak.services import PrivatePostgres, PrivateRedis


@dataclass
class Comparison:
    expected: int
    stored: int
    lost: int
    duplicated: int
    detail: str = ""

    @property
    def exact(self) -> bool:
        return self.lost == 0 and self.duplicated == 0


class Cluster:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.postgres = PrivatePostgres()
        self.redis = PrivateRedis()
        self.servers: list[Server] = []
        self.db: Database | None = None
        self.key = ""
        self.sdk_runs = 0
        self.sdk_procs: list[subprocess.Popen] = []
        # Rows a fault made itself (a worker fault's background runs): not the SDK load's, set aside in compare.
        self.outside_load: dict[str, set[str]] = {}

    def start(self, servers: int = 2) -> None:
        self.postgres.start()
        self.postgres.create_database()
        self.redis.start()
        self.db = Database(self.postgres.url, None)
        for i in range(servers):
            server = Server(self.workdir, self.postgres.url, self.db)
            server.log_path = self.workdir / f"daphne-{i}.log"
            server.env.update({
                "REDIS_URL": self.redis.url, "ORCHESTRATOR_METRICS": "true",
                "ORCHESTRATOR_INGEST_RATE_PER_KEY": "0",  # one key for every SDK process of the soak
                "DATABASE_POOL_TIMEOUT": "3", "LOG_LEVEL": "WARNING",
            })
            self.servers.append(server)
        self.servers[0].manage("migrate", "--noinput")
        self.key = self.servers[0].manage("createapikey", "soak", "--scope", "admin").strip().splitlines()[-1]
        for server in self.servers:
            server.key = self.key

    def close(self) -> None:
        for proc in self.sdk_procs:
            sigkill(proc)
        for server in self.servers:
            server.kill()
        self.redis.close()
        self.postgres.close()

    def base(self, server: Server) -> str:
        return server.url.removesuffix("/api")

    # --- SDK processes -------------------------------------------------------------------------

    def sdk_process(self, server: Server, tasks: int, mode: str = "deliver", home: Path | None = None,
                    flush_timeout: float = 900) -> tuple[subprocess.Popen, Path]:
        self.sdk_runs += 1
        ids = self.workdir / f"ids-{self.sdk_runs}.jsonl"
        home = home or self.workdir / f"home-{self.sdk_runs}"
        env = {**os.environ, "ORCHESTRATOR_API_URL": server.url, "ORCHESTRATOR_API_KEY": self.key,
               "ORCHESTRATOR_HOME": str(home), "PYTHONPATH": str(ROOT)}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        # spool-wait: only stdout is read until the SIGKILL, so the console log (two lines a task) goes to a
        # file; a pipe nobody drains fills at 64 KiB and blocks the flow (it did at 2,000 tasks).
        stderr = (self.workdir / f"sdk-{self.sdk_runs}.stderr").open("w") if mode == "spool-wait" else subprocess.PIPE
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.soak.sdk_process", "--tasks", str(tasks), "--ids", str(ids),
             "--mode", mode, "--flush-timeout", str(flush_timeout)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
        )
        if stderr is not subprocess.PIPE:
            stderr.close()  # the child holds its own descriptor
        self.sdk_procs.append(proc)
        return proc, ids

    @staticmethod
    def wait_all(procs: list[subprocess.Popen], timeout: float) -> list[str]:
        problems = []
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                problems.append(f"pid {proc.pid} timed out")
                continue
            if proc.returncode:
                problems.append(f"pid {proc.pid} exited {proc.returncode}: {err[-500:]}")
        return problems

    # --- comparison ----------------------------------------------------------------------------

    def compare(self, id_files: list[Path]) -> Comparison:
        records = [json.loads(line) for path in id_files if path.exists() for line in path.open()]
        expected = expected_rows(records)
        stored = {table: ids - self.outside_load.get(table, set()) for table, ids in self.db.rows().items()}
        lost = duplicated = 0
        details = []
        for table, ids in expected.items():
            missing, extra = ids - stored[table], stored[table] - ids
            lost += len(missing)
            duplicated += len(extra) + self.db.count(table) - len(self.outside_load.get(table, ())) - len(stored[table])
            if missing or extra:
                details.append(f"{table}: {len(missing)} missing, {len(extra)} unexpected")
        return Comparison(sum(map(len, expected.values())), sum(map(len, stored.values())), lost, duplicated,
                          "; ".join(details))

    def clear(self) -> None:
        self.db.clear()
        self.outside_load = {}

    # --- observations --------------------------------------------------------------------------

    def metrics(self, server: Server) -> str:
        return httpx.get(self.base(server) + "/metrics", timeout=30).text

    def latency_buckets(self, servers: list[Server]) -> dict[tuple[int, float], float]:
        """The batch ingestion histograms of these servers: (port, upper bound) → cumulative count."""
        buckets: dict[tuple[int, float], float] = {}
        for server in servers:
            if not server.running:
                continue
            for le, count in re.findall(r'^orchestrator_ingest_batch_seconds_bucket\{le="([^"]+)"\} (\S+)$',
                                        self.metrics(server), re.MULTILINE):
                buckets[(server.port, float(le))] = float(count)
        return buckets

    def latency_p95(self, servers: list[Server], since: dict | None = None) -> float | None:
        """p95 of the batch ingestion time over the batches since `since` (linear within a bucket)."""
        since = since or {}
        merged: dict[float, float] = {}
        for (port, le), count in self.latency_buckets(servers).items():
            merged[le] = merged.get(le, 0.0) + count - since.get((port, le), 0.0)
        return percentile_from_buckets(merged, 0.95)

    def server_errors(self) -> int:
        """HTTP 500 answers logged by every server process so far (Django logs each one)."""
        return sum(s.log_path.read_text(errors="replace").count("Internal Server Error")
                   for s in self.servers if s.log_path.exists())

    def readyz(self, server: Server) -> int:
        try:
            return httpx.get(self.base(server) + "/readyz", timeout=10).status_code
        except httpx.HTTPError:
            return 0

    def kill(self, server: Server) -> None:
        server.kill()

    def wait_stored(self, table: str, at_least: int, timeout: float) -> None:
        wait_until(lambda: self.db.count(table) >= at_least, timeout, interval=0.2, message=f"{at_least} rows in {table}")


def percentile_from_buckets(cumulative: dict[float, float], q: float) -> float | None:
    if not cumulative:
        return None
    bounds = sorted(cumulative)
    total = cumulative[bounds[-1]]
    if total <= 0:
        return None
    target = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = cumulative[bound]
        if count >= target:
            if bound == float("inf"):
                return lower_bound
            share = (target - lower_count) / max(count - lower_count, 1e-9)
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return bounds[-1]


def sigkill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
