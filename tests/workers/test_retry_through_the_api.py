"""Retrying failed runs through the API, executed by a real worker: same id, higher run_count, timeline kept."""
from __future__ import annotations

import pytest

from tests.workers.harness import delayed, json_line

pytestmark = pytest.mark.redis


def test_retry_of_a_failed_task_run_completes_with_the_same_id_and_run_count_2(redis_stack, redis_worker):
    out = delayed(redis_stack, """
import json
f = fails_on_first_attempt.delay("ok")
state = f.result(timeout=60, raise_on_failure=False)
print(json.dumps([f.task_run_id, type(state).__name__]))
""")
    run_id, error = json_line(out)
    assert error == "RuntimeError"
    assert redis_stack.run(run_id)["state"]["name"] == "Failed"

    response = redis_stack.admin.post(f"/task-runs/{run_id}/retry/")
    assert response.status_code == 202, response.text
    assert response.json()["id"] == run_id and response.json()["state"]["name"] == "AwaitingRetry"

    run = redis_stack.wait_for_state(run_id, {"Completed", "Failed", "Crashed"})
    assert (run["id"], run["state"]["name"], run["run_count"]) == (run_id, "Completed", 2)
    timeline = [(s["name"], s["run_count"]) for s in redis_stack.states(run_id)]
    assert timeline == [("Scheduled", 0), ("Running", 1), ("Failed", 1), ("AwaitingRetry", 1), ("Retrying", 2),
                        ("Completed", 2)]


def test_a_failed_task_of_a_flow_run_in_its_own_process_is_retried_by_a_worker(redis_stack, redis_worker):
    # The flow runs in a plain process (not a worker); a worker serving the task retries the failed task run.
    out = delayed(redis_stack, """
import json
from sdk import flow

@flow
def nightly():
    return fails_on_first_attempt.submit("night").result(raise_on_failure=False)

print(json.dumps(str(nightly(return_state=True).name)))
sdk.flush(timeout=10)
""")
    assert out.returncode == 0, out.stderr
    failed = redis_stack.admin.get("/task-runs/", params={"state": "Failed", "name": "fails_on_first_attempt"}).json()
    run = next(r for r in failed["results"] if r["parameters"] == {"value": "night"})
    response = redis_stack.admin.post(f"/task-runs/{run['id']}/retry/")
    assert response.status_code == 202, response.text
    done = redis_stack.wait_for_state(run["id"], {"Completed", "Failed", "Crashed"})
    assert (done["state"]["name"], done["run_count"], done["flow_run_id"]) == ("Completed", 2, run["flow_run_id"])


def test_bulk_retry_by_filters_retries_every_matching_run(redis_stack, redis_worker):
    out = delayed(redis_stack, """
import json
fs = [fails_on_first_attempt.delay(f"bulk-{i}") for i in range(3)]
for f in fs:
    f.wait(60)
print(json.dumps(sorted(f.task_run_id for f in fs)))
""")
    ids = json_line(out)
    response = redis_stack.admin.post("/task-runs/retry/", json={"filters": {"state": "Failed", "name": "fails_on_first_attempt"}})
    assert response.status_code == 200, response.text
    assert set(ids) <= set(response.json()["retried"])
    for run_id in ids:
        assert redis_stack.wait_for_state(run_id, {"Completed", "Failed", "Crashed"})["state"]["name"] == "Completed"


def test_a_double_retry_runs_the_retry_once(redis_stack, redis_worker):
    out = delayed(redis_stack, "import json\nf = fails_on_first_attempt.delay('twice')\nf.wait(60)\nprint(json.dumps(f.task_run_id))")
    run_id = json_line(out)
    first = redis_stack.admin.post(f"/task-runs/{run_id}/retry/")
    second = redis_stack.admin.post(f"/task-runs/{run_id}/retry/")
    assert first.status_code == 202
    assert second.status_code == 409  # already being retried, or (if the worker was quick) Completed
    assert "already being retried" in second.json()["detail"] or "is Completed" in second.json()["detail"]
    run = redis_stack.wait_for_state(run_id, {"Completed"})
    assert run["run_count"] == 2
    names = [s["name"] for s in redis_stack.states(run_id)]
    assert names.count("Retrying") == 1 and names.count("AwaitingRetry") == 1
