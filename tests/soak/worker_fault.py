"""The soak's worker fault: a task worker SIGKILLed while it runs `.delay()` runs, mid-load.

A task worker (`python -m sdk serve`) on the private Redis runs slow background runs; once
they are Running it is SIGKILLed; `manage.py housekeeping` must then leave none of them
Running (they end Crashed). Those runs are the fault's own rows, set aside from the load's
exact comparison (Cluster.outside_load) and checked on their own: each stored exactly once.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

from tests.shipping.live_server import ROOT, wait_until
from tests.soak.cluster import Cluster

RUNS = 2  # one per worker thread: all of them Running when the worker dies
STALE_AFTER = 2.0  # seconds of heartbeat silence after which housekeeping counts the worker gone


def worker_env(cluster: Cluster, home_name: str) -> dict[str, str]:
    server = cluster.servers[0]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    env.update({"ORCHESTRATOR_API_URL": server.url, "ORCHESTRATOR_API_KEY": cluster.key,
                "ORCHESTRATOR_HOME": str(cluster.workdir / home_name), "CELERY_BROKER_URL": cluster.redis.url,
                "ORCHESTRATOR_HEARTBEAT_SECONDS": "1", "PYTHONPATH": str(ROOT)})
    return env


def id_list(run_ids: list[str]) -> str:
    """A SQL list of uuid literals (each parsed as a UUID first, so nothing else gets in)."""
    return "(" + ", ".join(f"'{uuid.UUID(run_id)}'::uuid" for run_id in run_ids) + ")"


def states_of(cluster: Cluster, run_ids: list[str]) -> dict[str, str]:
    return dict(cluster.db._query(f"SELECT id::text, state_name FROM orchestrator_taskrun WHERE id IN {id_list(run_ids)}"))


def kill_worker(cluster: Cluster) -> str:
    log_path = cluster.workdir / "task-worker.log"
    with open(log_path, "ab") as log:
        worker = subprocess.Popen([sys.executable, "-m", "sdk", "serve", "tests.workers.served:sleepy",
                                   f"--concurrency={RUNS}", "--loglevel=INFO"], cwd=ROOT, stdout=log,
                                  stderr=subprocess.STDOUT, env=worker_env(cluster, "home-task-worker"),
                                  start_new_session=True)
    cluster.sdk_procs.append(worker)
    try:
        wait_until(lambda: cluster.db._query("SELECT COUNT(*) FROM orchestrator_worker "
                                             f"WHERE name LIKE '%:{int(worker.pid)}'")[0][0] > 0 or worker.poll() is not None,
                   120, 0.2, "the task worker to heartbeat")
        submit = subprocess.run(
            [sys.executable, "-c", "from tests.workers.served import sleepy\n"
             f"print(*[sleepy.delay(600).task_run_id for _ in range({RUNS})])"],
            cwd=ROOT, env=worker_env(cluster, "home-submitter"), capture_output=True, text=True, timeout=300)
        run_ids = submit.stdout.split()
        if submit.returncode or len(run_ids) != RUNS:
            return f"FAILED to submit: {submit.stderr[-300:]}"
        wait_until(lambda: list(states_of(cluster, run_ids).values()).count("Running") == RUNS, 300, 0.2,
                   f"{RUNS} background runs Running")
    except AssertionError as exc:
        return f"FAILED: {exc}; worker log: {log_path}"
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    time.sleep(STALE_AFTER + 1)  # the dead worker's last heartbeat ages past --stale-after
    out = cluster.servers[0].manage("housekeeping", "--stale-after", str(STALE_AFTER))
    states = states_of(cluster, run_ids)
    cluster.outside_load = own_rows(cluster, run_ids)
    stored = cluster.db._query(f"SELECT COUNT(*) FROM orchestrator_taskrun WHERE id IN {id_list(run_ids)}")[0][0]
    summary = f"{RUNS} runs Running at SIGKILL; after housekeeping: {sorted(states.values())}"
    if stored != RUNS or any(name == "Running" for name in states.values()):
        return f"FAILED: {summary}; stored {stored} of {RUNS}; {out.strip()[-200:]}"
    return summary


def own_rows(cluster: Cluster, run_ids: list[str]) -> dict[str, set[str]]:
    """The rows of the fault's background runs (runs, their states and logs), by table."""
    def ids(table: str, column: str) -> set[str]:
        return {uuid.UUID(str(row[0])).hex
                for row in cluster.db._query(f"SELECT id FROM {table} WHERE {column} IN {id_list(run_ids)}")}

    return {"orchestrator_taskrun": ids("orchestrator_taskrun", "id"),
            "orchestrator_taskrunstate": ids("orchestrator_taskrunstate", "task_run_id"),
            "orchestrator_log": ids("orchestrator_log", "task_run_id")}
