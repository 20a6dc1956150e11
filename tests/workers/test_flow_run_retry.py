"""Retrying a failed flow run on a worker that serves the flow: it resumes, cached tasks end Cached."""
from __future__ import annotations

import pytest

from tests.workers.harness import delayed, json_line

pytestmark = pytest.mark.redis


def test_a_retried_flow_run_resumes_with_cached_tasks_cached(redis_stack):
    redis_stack.start_worker("tests.workers.served:resumable")
    out = delayed(redis_stack, """
import json
state = resumable(3, return_state=True)
sdk.flush(timeout=10)
print(json.dumps([state.flow_run_id, state.name]))
""")
    flow_run_id, name = json_line(out)
    assert name == "Failed"
    first = {r["task_name"]: r for r in redis_stack.admin.get(f"/flow-runs/{flow_run_id}/task-runs/").json()["results"]}
    assert (first["expensive"]["state"]["name"], first["flaky_step"]["state"]["name"]) == ("Completed", "Failed")

    response = redis_stack.admin.post(f"/flow-runs/{flow_run_id}/retry/")
    assert response.status_code == 202, response.text
    run = redis_stack.wait_for_state(flow_run_id, {"Completed", "Failed", "Crashed"}, kind="flow")
    assert (run["id"], run["state"]["name"], run["run_count"]) == (flow_run_id, "Completed", 2)

    task_runs = redis_stack.admin.get(f"/flow-runs/{flow_run_id}/task-runs/").json()["results"]
    second = [r for r in task_runs if r["id"] not in {first["expensive"]["id"], first["flaky_step"]["id"]}]
    assert sorted((r["task_name"], r["state"]["name"]) for r in second) == [("expensive", "Cached"), ("flaky_step", "Completed")]
    timeline = [(s["name"], s["run_count"]) for s in redis_stack.states(flow_run_id, kind="flow")]
    assert timeline[-4:] == [("Failed", 1), ("AwaitingRetry", 1), ("Retrying", 2), ("Completed", 2)]
