"""The demo of `make up`: its failed notify_sales task, retried on the worker serving the demo flow, completes."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.shipping.live_server import ROOT

pytestmark = pytest.mark.redis


def test_the_demos_failed_task_completes_when_retried(redis_stack):
    redis_stack.start_worker("examples.demo_flow:daily_revenue")
    out = subprocess.run([sys.executable, "examples/demo_flow.py"], cwd=ROOT, env=redis_stack.sdk_env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    failed = redis_stack.admin.get("/task-runs/", params={"state": "FAILED,CRASHED"}).json()["results"]
    assert [r["task_name"] for r in failed] == ["notify_sales"]
    response = redis_stack.admin.post(f"/task-runs/{failed[0]['id']}/retry/")
    assert response.status_code == 202, response.text
    run = redis_stack.wait_for_state(failed[0]["id"], {"Completed", "Failed", "Crashed"})
    assert (run["state"]["name"], run["run_count"]) == ("Completed", 2)
