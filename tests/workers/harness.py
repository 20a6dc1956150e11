"""A real stack for worker tests: Daphne on a fresh database, a broker, and task worker processes.

Brokers: Redis at TEST_REDIS_URL (default redis://127.0.0.1:6379/0), RabbitMQ at
TEST_RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672//), or the embedded
filesystem transport. Every stack uses its own queue prefix, so runs of the suite on
a shared broker never take each other's messages.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlparse

import httpx
import pytest

from tests.shipping.live_server import ROOT, Server, fresh_database, wait_until

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def answers(url: str) -> bool:
    parsed = urlparse(url)
    default = 5672 if parsed.scheme.startswith("amqp") else 6379
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default), timeout=2):
            return True
    except OSError:
        return False


def require_redis() -> str:
    if not answers(REDIS_URL):
        message = f"!!! Redis is not reachable at {REDIS_URL}: worker tests on Redis cannot run"
        if CI:
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    return REDIS_URL


def require_rabbitmq() -> str:
    if not answers(RABBITMQ_URL):
        # .ci/run does not start RabbitMQ, so it is optional even under CI: skip, loudly.
        pytest.skip(f"!!! RabbitMQ is not reachable at {RABBITMQ_URL}: the RabbitMQ variant of the worker tests is skipped")
    return RABBITMQ_URL


class Stack:
    def __init__(self, server: Server, home: Path, broker: str, prefix: str, admin_key: str, ingest_key: str) -> None:
        self.server = server
        self.home = home
        self.broker = broker
        self.prefix = prefix
        self.admin_key = admin_key
        self.ingest_key = ingest_key
        self.workers: list[subprocess.Popen] = []
        self.admin = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=30)

    def sdk_env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
        env.update({
            "ORCHESTRATOR_API_URL": self.server.url,
            "ORCHESTRATOR_API_KEY": self.ingest_key,
            "ORCHESTRATOR_HOME": str(self.home),
            "ORCHESTRATOR_QUEUE_PREFIX": self.prefix,
            "ORCHESTRATOR_HEARTBEAT_SECONDS": "1",
            "PYTHONPATH": str(ROOT),
        })
        if self.broker != "filesystem://":
            env["CELERY_BROKER_URL"] = self.broker
        env.update(extra)
        return env

    def start_worker(self, *targets: str, concurrency: int = 1, loglevel: str = "INFO", **extra_env: str) -> subprocess.Popen:
        log = open(self.home / f"worker-{len(self.workers)}.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "sdk", "serve", *targets, f"--concurrency={concurrency}", f"--loglevel={loglevel}"],
            cwd=ROOT, env=self.sdk_env(**extra_env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self.workers.append(proc)
        wait_until(lambda: self._worker_seen(proc), 60, 0.1, f"worker pid {proc.pid} to heartbeat")
        return proc

    def _worker_seen(self, proc: subprocess.Popen) -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"worker exited with {proc.returncode}:\n{self.worker_logs()}")
        workers = self.admin.get("/workers/").json()["results"]
        return any(w["pid"] == proc.pid for w in workers)

    def worker_logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.home.glob("worker-*.log")))

    def stop_worker(self, proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        return proc.wait(timeout)

    def python(self, code: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run SDK code in a fresh process reporting to this stack."""
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=self.sdk_env(), capture_output=True,
                              text=True, timeout=timeout)

    def run(self, run_id: str, kind: str = "task") -> dict:
        response = self.admin.get(f"/{kind}-runs/{run_id}/")
        assert response.status_code == 200, response.text
        return response.json()

    def states(self, run_id: str, kind: str = "task") -> list[dict]:
        return self.admin.get(f"/{kind}-runs/{run_id}/states/").json()["results"]

    def wait_for_state(self, run_id: str, names: set[str], kind: str = "task", timeout: float = 60) -> dict:
        def reached() -> dict | None:
            response = self.admin.get(f"/{kind}-runs/{run_id}/")
            if response.status_code != 200:
                return None
            run = response.json()
            return run if run["state"] and run["state"]["name"] in names else None

        try:
            return wait_until(reached, timeout, 0.05, f"{kind} run {run_id} to reach {names}")
        except AssertionError:
            raise AssertionError(f"{kind} run {run_id} never reached {names}: {self.run(run_id, kind)}\n{self.worker_logs()}")

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self.admin.close()


@contextmanager
def running_stack(broker: str) -> Iterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="orch-workers-"))
    home = workdir / "home"
    home.mkdir()
    database_url, _db, drop = fresh_database(workdir)
    server = Server(workdir, database_url, _db)
    prefix = f"t{uuid.uuid4().hex[:10]}"
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        server.env.pop(name, None)
    server.env.update({"ORCHESTRATOR_HOME": str(home), "ORCHESTRATOR_QUEUE_PREFIX": prefix})
    if broker != "filesystem://":
        server.env["CELERY_BROKER_URL"] = broker
    stack = None
    try:
        server.manage("migrate", "--noinput")
        admin_key = server.manage("createapikey", "workers-admin", "--scope", "admin").strip().splitlines()[-1]
        ingest_key = server.manage("createapikey", "workers-ingest", "--scope", "ingest").strip().splitlines()[-1]
        server.key = ingest_key
        server.start()
        stack = Stack(server, home, broker, prefix, admin_key, ingest_key)
        yield stack
    finally:
        if stack is not None:
            stack.close()
        server.kill()
        drop()
        if broker.startswith("redis"):
            _forget_queues(broker, prefix)
        shutil.rmtree(workdir, ignore_errors=True)


def _forget_queues(broker: str, prefix: str) -> None:
    """Remove this stack's queues from the shared Redis database."""
    try:
        import redis

        client = redis.Redis.from_url(broker, socket_timeout=5)
        for key in client.scan_iter(match=f"*{prefix}*", count=500):
            client.delete(key)
    except Exception:
        pass


def delayed(stack: Stack, call: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`from tests.workers.served import *; <call>` in a fresh SDK process; prints what it prints."""
    return stack.python(f"from tests.workers.served import *\nimport sdk\n{call}", timeout=timeout)


def json_line(out: subprocess.CompletedProcess) -> Any:
    import json

    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def delayed_run(staff) -> str:
    """Create a background run of `add-1` through the API as `staff` (a DRF APIClient); its id."""
    response = staff.post("/api/task-runs/", {"task_key": "add-1", "task_name": "add", "parameters": {"a": 1}}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]

