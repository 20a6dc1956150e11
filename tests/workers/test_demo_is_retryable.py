"""The demo of `make up`: its failed tasks (notify_sales, load-rows), retried on a worker serving the
demo flows, complete."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.shipping.live_server import ROOT

pytestmark = pytest.mark.redis


def test_the_demos_failed_tasks_complete_when_retried(redis_stack):
    redis_stack.start_worker("examples.demo_flow:daily_revenue", "examples.demo_flow:warehouse_sync")
    out = subprocess.run([sys.executable, "examples/demo_flow.py"], cwd=ROOT, env=redis_stack.sdk_env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    failed = redis_stack.admin.get("/task-runs/", params={"state": "FAILED,CRASHED"}).json()["results"]
    assert sorted(r["task_name"] for r in failed) == ["load-rows", "notify_sales"]
    for task_run in failed:
        response = redis_stack.admin.post(f"/task-runs/{task_run['id']}/retry/")
        assert response.status_code == 202, response.text
    for task_run in failed:
        run = redis_stack.wait_for_state(task_run["id"], {"Completed", "Failed", "Crashed"})
        assert (run["task_name"], run["state"]["name"], run["run_count"]) == (task_run["task_name"], "Completed", 2)
