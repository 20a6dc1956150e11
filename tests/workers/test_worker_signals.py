"""A worker stopped mid-run: SIGTERM finishes the run and exits; after SIGKILL no run stays Running."""
from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.shipping.live_server import ROOT
from tests.workers.harness import delayed, json_line

pytestmark = pytest.mark.redis


def test_sigterm_finishes_the_current_run_then_exits(redis_stack):
    worker = redis_stack.start_worker("tests.workers.served:sleepy")
    run_id = json_line(delayed(redis_stack, "import json\nprint(json.dumps(sleepy.delay(2).task_run_id))"))
    redis_stack.wait_for_state(run_id, {"Running"})
    assert redis_stack.stop_worker(worker, signal.SIGTERM) == 0, redis_stack.worker_logs()
    assert redis_stack.wait_for_state(run_id, {"Completed", "Crashed", "Failed"})["state"]["name"] == "Completed"


def test_a_sigkilled_worker_leaves_no_run_in_running(redis_stack):
    worker = redis_stack.start_worker("tests.workers.served:sleepy")
    run_id = json_line(delayed(redis_stack, "import json\nprint(json.dumps(sleepy.delay(600).task_run_id))"))
    redis_stack.wait_for_state(run_id, {"Running"})
    redis_stack.stop_worker(worker, signal.SIGKILL)
    # Housekeeping (what Celery beat runs every 30 s) marks it Crashed once the worker is silent for --stale-after.
    def housekeeping() -> str:
        out = subprocess.run([sys.executable, "manage.py", "housekeeping", "--stale-after", "2"], cwd=ROOT,
                             env=redis_stack.server.env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout

    run = None
    for _ in range(60):  # each pass is a process start: a few seconds at most in all
        housekeeping()
        run = redis_stack.run(run_id)
        if run["state"]["name"] != "Running":
            break
    assert run["state"]["name"] == "Crashed", run
    assert "stopped heart-beating" in run["state"]["message"]
