"""`celery -A orchestrator worker` (prefork) on PostgreSQL: pool processes run housekeeping with their own
connections; the parent opens no database connection or pool before it forks."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.shipping.live_server import ROOT, VENV_BIN, Server, fresh_database, wait_until
from tests.workers.harness import require_redis

SETUP = """
import uuid
from datetime import timedelta
from django.utils import timezone
from orchestrator.models import BackgroundRun, TaskRun, Worker
old = timezone.now() - timedelta(minutes=10)
Worker.objects.create(name="gone:1", first_seen=old, last_seen=old)
for i in range(4):
    run = TaskRun.objects.create(id=uuid.uuid4(), task_key="k-1", created=old, state_type="RUNNING", state_name="Running",
                                 state_timestamp=old, state_seq=1, run_count=1, has_created_event=True)
    BackgroundRun.objects.create(run_id=run.id, kind="task", key="k-1", dispatch=1, claimed_by="gone:1", claimed_at=old)
"""


@pytest.mark.postgres
def test_prefork_pool_processes_run_housekeeping_on_postgresql():
    if urlparse(os.environ.get("DATABASE_URL", "")).scheme not in ("postgres", "postgresql"):
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    broker = require_redis()
    workdir = Path(tempfile.mkdtemp(prefix="orch-celery-"))
    database_url, db, drop = fresh_database(workdir)
    server = Server(workdir, database_url, db)
    queue = f"t{uuid.uuid4().hex[:10]}"
    server.env.update({"CELERY_BROKER_URL": broker, "ORCHESTRATOR_HOME": str(workdir)})
    log_path = workdir / "celery.log"
    proc = None
    try:
        server.manage("migrate", "--noinput")
        server.manage("shell", "-c", SETUP)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [str(VENV_BIN / "celery"), "-A", "orchestrator", "worker", "-P", "prefork", "-c", "2", "-Q", queue,
                 "-l", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=server.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        wait_until(lambda: "ready" in log_path.read_text(errors="replace") or proc.poll() is not None, 90, 0.1,
                   "the Celery worker to be ready")
        assert proc.poll() is None, log_path.read_text()
        for _ in range(4):
            subprocess.run([str(VENV_BIN / "celery"), "-A", "orchestrator", "call", "orchestrator.housekeeping",
                            "--queue", queue], cwd=ROOT, env=server.env, check=True, capture_output=True, timeout=120)
        wait_until(lambda: log_path.read_text(errors="replace").count("succeeded") >= 4, 120, 0.1, "4 housekeeping runs")
        states = {row[0] for row in db._query("SELECT state_name FROM orchestrator_taskrun")}
        assert states == {"Crashed"}
        text = log_path.read_text(errors="replace")
        assert "OperationalError" not in text and "Traceback" not in text, text[-3000:]
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        drop()
        shutil.rmtree(workdir, ignore_errors=True)
