"""Every reason a retry or cancel is refused: 403 without the permission, 409 with a reason a person can act on."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from orchestrator import retries
from orchestrator.models import BackgroundRun, TaskRun
from tests.api.conftest import client_with_key
from tests.api.factories import make_flow_run, make_state, make_task_run, make_worker

KEY = "add-5f3a9c1e"


@pytest.fixture(autouse=True)
def own_queues(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_QUEUE_PREFIX", f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture
def live_worker(db):
    return make_worker("host:1", task_keys=[KEY], flow_names=["etl"])


@pytest.fixture
def staff(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.create_user("ops", is_staff=True))
    return client


def failed_task_run(**fields) -> TaskRun:
    fields.setdefault("parameters", {"a": 1, "b": 2})
    return make_task_run(state=("FAILED", "Failed"), has_created_event=True, run_count=1, **fields)


def detail(response) -> str:
    return response.json()["detail"]


def test_a_retryable_run_goes_awaiting_retry_and_is_enqueued(staff, live_worker):
    run = failed_task_run()
    response = staff.post(f"/api/task-runs/{run.id}/retry/")
    assert response.status_code == 202, response.content
    assert response.json()["state"]["name"] == "AwaitingRetry"
    background = BackgroundRun.objects.get(run_id=run.id)
    assert (background.kind, background.key, background.parameters, background.dispatch) == ("task", KEY, {"a": 1, "b": 2}, 1)


def test_no_live_worker_serves_the_key(staff, db):
    make_worker("host:2", task_keys=[KEY], seen_ago=timedelta(minutes=5))  # silent: not live
    run = failed_task_run()
    response = staff.post(f"/api/task-runs/{run.id}/retry/")
    assert response.status_code == 409
    assert detail(response) == f"No live worker serves task key '{KEY}'; start one (`python -m sdk serve module:task`) and retry."


def test_parameters_not_stored_as_json(staff, live_worker):
    run = failed_task_run(unstored_parameters=["frame"])
    response = staff.post(f"/api/task-runs/{run.id}/retry/")
    assert response.status_code == 409
    assert "parameters were not stored (frame: not JSON" in detail(response)


def test_parameters_never_reported(staff, live_worker):
    run = make_task_run(state=("FAILED", "Failed"), has_created_event=False)
    response = staff.post(f"/api/task-runs/{run.id}/retry/")
    assert response.status_code == 409
    assert "parameters were never reported" in detail(response)


def test_a_parameter_from_an_upstream_run_without_a_json_result(staff, live_worker):
    upstream = make_task_run(state=("COMPLETED", "Completed"))
    make_state(upstream, "COMPLETED", "Completed", result=None)
    run = failed_task_run(parameters={"a": {"__upstream__": str(upstream.id)}, "b": 1})
    response = staff.post(f"/api/task-runs/{run.id}/retry/")
    assert response.status_code == 409
    assert f"came from task run {upstream.id}, whose result was not stored as JSON" in detail(response)


def test_a_parameter_from_an_upstream_run_takes_its_stored_result(staff, live_worker):
    upstream = make_task_run(state=("COMPLETED", "Completed"))
    make_state(upstream, "COMPLETED", "Completed", result=[1, 2])
    run = failed_task_run(parameters={"a": {"__upstream__": str(upstream.id)}, "b": 1})
    assert staff.post(f"/api/task-runs/{run.id}/retry/").status_code == 202
    assert BackgroundRun.objects.get(run_id=run.id).parameters == {"a": [1, 2], "b": 1}


@pytest.mark.parametrize("state", [("COMPLETED", "Completed"), ("RUNNING", "Running"), ("SCHEDULED", "Scheduled"),
                                   ("PENDING", "Pending")])
def test_a_run_that_did_not_fail_is_not_retryable(staff, live_worker, state):
    run = make_task_run(state=state, parameters={}, has_created_event=True)
    response = staff.post(f"/api/task-runs/{run.id}/retry/")
    assert response.status_code == 409
    assert detail(response) == (f"Task run {run.name} is {state[1]}; only failed, crashed, cancelled or "
                                "timed-out runs can be retried.")


@pytest.mark.parametrize("state", [("FAILED", "TimedOut"), ("CRASHED", "Crashed"), ("CANCELLED", "Cancelled")])
def test_timed_out_crashed_and_cancelled_runs_are_retryable(staff, live_worker, state):
    run = make_task_run(state=state, parameters={}, has_created_event=True)
    assert staff.post(f"/api/task-runs/{run.id}/retry/").status_code == 202


@pytest.mark.parametrize("name,type_", [("AwaitingRetry", "SCHEDULED"), ("Retrying", "RUNNING")])
def test_a_run_already_being_retried(staff, live_worker, name, type_):
    run = make_task_run(state=(type_, name), parameters={}, has_created_event=True)
    response = staff.post(f"/api/task-runs/{run.id}/retry/")
    assert response.status_code == 409
    assert detail(response) == f"Task run {run.name} is already being retried ({name})."


def test_a_second_retry_is_refused_as_already_being_retried(staff, live_worker):
    run = failed_task_run()
    assert staff.post(f"/api/task-runs/{run.id}/retry/").status_code == 202
    second = staff.post(f"/api/task-runs/{run.id}/retry/")
    assert second.status_code == 409 and "already being retried" in detail(second)
    assert BackgroundRun.objects.get(run_id=run.id).dispatch == 1


def test_a_user_without_the_permission_gets_403(db, live_worker):
    client = APIClient()
    client.force_authenticate(User.objects.create_user("viewer"))
    run = failed_task_run()
    response = client.post(f"/api/task-runs/{run.id}/retry/")
    assert response.status_code == 403
    assert detail(response) == retries.PERMISSION_REASON
    assert TaskRun.objects.get(pk=run.id).state_name == "Failed"


def test_the_retry_run_permission_is_enough(db, live_worker):
    user = User.objects.create_user("operator")
    user.user_permissions.add(Permission.objects.get(codename="retry_run", content_type__app_label="orchestrator"))
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    assert client.post(f"/api/task-runs/{failed_task_run().id}/retry/").status_code == 202


def test_an_ingest_key_gets_403_and_an_admin_key_may_retry(db, live_worker):
    run = failed_task_run()
    assert client_with_key("ingest").post(f"/api/task-runs/{run.id}/retry/").status_code == 403
    assert client_with_key("read").post(f"/api/task-runs/{run.id}/retry/").status_code == 403
    assert client_with_key("admin").post(f"/api/task-runs/{run.id}/retry/").status_code == 202


def test_anonymous_requests_are_401(db):
    assert APIClient().post(f"/api/task-runs/{uuid.uuid4()}/retry/").status_code == 401


def test_an_unknown_or_malformed_id_is_404(staff):
    assert staff.post(f"/api/task-runs/{uuid.uuid4()}/retry/").status_code == 404
    assert staff.post("/api/task-runs/not-a-uuid/retry/").status_code == 404
    assert staff.post(f"/api/flow-runs/{uuid.uuid4()}/retry/").status_code == 404


def test_flow_run_refusals_name_the_flow(staff, db):
    run = make_flow_run(flow="nightly", state=("FAILED", "Failed"), parameters={}, has_created_event=True)
    response = staff.post(f"/api/flow-runs/{run.id}/retry/")
    assert response.status_code == 409
    assert detail(response) == "No live worker serves flow 'nightly'; start one (`python -m sdk serve module:flow`) and retry."


def test_a_flow_run_served_by_a_live_worker_is_retried(staff, live_worker):
    run = make_flow_run(flow="etl", state=("CRASHED", "Crashed"), parameters={"day": "x"}, has_created_event=True)
    response = staff.post(f"/api/flow-runs/{run.id}/retry/")
    assert response.status_code == 202, response.content
    assert response.json()["state"]["name"] == "AwaitingRetry"


def test_bulk_retry_reports_each_refusal_by_id(staff, live_worker):
    ok, done = failed_task_run(), make_task_run(state=("COMPLETED", "Completed"), has_created_event=True)
    missing = uuid.uuid4()
    response = staff.post("/api/task-runs/retry/", {"ids": [str(ok.id), str(done.id), str(missing)]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["retried"] == [str(ok.id)]
    assert set(body["refused"]) == {str(done.id), str(missing)}
    assert "is Completed" in body["refused"][str(done.id)]
    assert body["refused"][str(missing)] == f"There is no task run with id {missing}."


def test_bulk_retry_by_filters(staff, live_worker):
    failed = [failed_task_run() for _ in range(2)]
    make_task_run(state=("COMPLETED", "Completed"), has_created_event=True)
    response = staff.post("/api/task-runs/retry/", {"filters": {"state": "FAILED,CRASHED"}}, format="json")
    assert response.status_code == 200
    assert sorted(response.json()["retried"]) == sorted(str(r.id) for r in failed)


def test_bulk_retry_by_filters_takes_the_newest_max_bulk_when_more_match(staff, live_worker, monkeypatch):
    monkeypatch.setattr(retries, "MAX_BULK", 2)
    oldest, middle, newest = (failed_task_run() for _ in range(3))
    response = staff.post("/api/task-runs/retry/", {"filters": {"state": "FAILED"}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["retried"] == [str(newest.id), str(middle.id)]  # as the dashboard's "All matching" says


@pytest.mark.parametrize("body,message", [
    ({}, "either"), ({"ids": [], "filters": {}}, "either"), ({"ids": ["nope"]}, "UUID"), ({"ids": [False]}, "UUID"),
    ({"filters": {"state": "Sideways"}}, "unknown state"), ({"filters": {"colour": "red"}}, "unknown filter"),
])
def test_bulk_retry_bad_bodies_are_400(staff, body, message):
    response = staff.post("/api/task-runs/retry/", body, format="json")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_bulk_retry_without_the_permission_is_403(db):
    client = APIClient()
    client.force_authenticate(User.objects.create_user("viewer"))
    response = client.post("/api/task-runs/retry/", {"ids": []}, format="json")
    assert response.status_code == 403


def test_refusal_reason_for_a_button(db, live_worker):
    user = User.objects.create_user("ops", is_staff=True)
    assert retries.refusal_reason(failed_task_run(), user) is None
    assert "only failed" in retries.refusal_reason(make_task_run(state=("COMPLETED", "Completed"), has_created_event=True), user)
    assert retries.refusal_reason(failed_task_run(), User.objects.create_user("viewer")) == retries.PERMISSION_REASON
