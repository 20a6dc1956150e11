"""GET /api/flow-runs/{id}/states/ and GET /api/task-runs/{id}/states/."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.api.factories import T0, make_flow_run, make_state, make_task_run, results


@pytest.fixture(params=["flow-runs", "task-runs"])
def run_and_path(request, db):
    run = make_flow_run() if request.param == "flow-runs" else make_task_run(make_flow_run())
    return run, f"/api/{request.param}/{run.id}/states/"


def test_states_oldest_first(api, run_and_path):
    run, path = run_and_path
    make_state(run, "COMPLETED", "Completed", timestamp=T0 + timedelta(seconds=2))
    make_state(run, "PENDING", "Pending", timestamp=T0)
    make_state(run, "RUNNING", "Running", timestamp=T0 + timedelta(seconds=1))
    assert [s["name"] for s in results(api.get(path))] == ["Pending", "Running", "Completed"]


def test_equal_timestamps_are_ordered_by_seq(api, run_and_path):
    run, path = run_and_path
    make_state(run, "RUNNING", "Running", timestamp=T0, seq=2)
    make_state(run, "PENDING", "Pending", timestamp=T0, seq=1)
    assert [s["name"] for s in results(api.get(path))] == ["Pending", "Running"]


def test_state_carries_error_and_run_count(api, run_and_path):
    run, path = run_and_path
    error = {"type": "ValueError", "message": "bad", "traceback": "Traceback ..."}
    make_state(run, "FAILED", "Failed", message="boom", run_count=2, error=error)
    state = results(api.get(path))[0]
    assert {k: state[k] for k in ("type", "name", "message", "run_count", "error")} == {
        "type": "FAILED", "name": "Failed", "message": "boom", "run_count": 2, "error": error,
    }
    assert state["timestamp"]


def test_only_this_runs_states(api, run_and_path):
    run, path = run_and_path
    make_state(run, "PENDING", "Pending")
    make_state(make_task_run(), "RUNNING", "Running")
    make_state(make_flow_run(), "RUNNING", "Running")
    assert [s["name"] for s in results(api.get(path))] == ["Pending"]


def test_retried_run_keeps_every_transition(api, run_and_path):
    run, path = run_and_path
    for type_, name, count in [("RUNNING", "Running", 1), ("FAILED", "Failed", 1), ("SCHEDULED", "AwaitingRetry", 1),
                               ("RUNNING", "Retrying", 2), ("COMPLETED", "Completed", 2)]:
        make_state(run, type_, name, run_count=count)
    timeline = results(api.get(path))
    assert [(s["name"], s["run_count"]) for s in timeline] == [
        ("Running", 1), ("Failed", 1), ("AwaitingRetry", 1), ("Retrying", 2), ("Completed", 2),
    ]


@pytest.mark.parametrize("kind", ["flow-runs", "task-runs"])
def test_unknown_run_is_404(api, kind):
    assert api.get(f"/api/{kind}/{uuid.uuid4()}/states/").status_code == 404


@pytest.mark.parametrize("kind", ["flow-runs", "task-runs"])
def test_malformed_run_id_is_a_json_404(api, kind):
    response = api.get(f"/api/{kind}/x'%20OR%201=1/states/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
