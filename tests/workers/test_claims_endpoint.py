"""POST /api/claims/: a worker's threads claim dispatches together; each is granted at most once."""
from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from orchestrator.models import BackgroundRun, TaskRun
from tests.workers.harness import delayed_run


pytestmark = pytest.mark.usefixtures("own_queues")


def claims(staff, *wanted: tuple[str, int], worker: str = "w:1", kind: str = "task"):
    body = {"worker": worker, "claims": [{"kind": kind, "id": run_id, "dispatch": n} for run_id, n in wanted]}
    return staff.post("/api/claims/", body, format="json")


def outcomes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["outcome"] for c in response.json()["claims"]]


def test_each_claim_of_a_batch_is_answered_in_order(staff):
    first, second = delayed_run(staff), delayed_run(staff)
    response = claims(staff, (first, 1), (second, 1))
    assert outcomes(response) == ["claimed", "claimed"]
    assert [c["id"] for c in response.json()["claims"]] == [first, second]
    assert set(BackgroundRun.objects.filter(run_id__in=[first, second]).values_list("claimed_by", flat=True)) == {"w:1"}


def test_a_dispatch_claimed_by_one_worker_is_refused_to_another(staff):
    run_id = delayed_run(staff)
    assert outcomes(claims(staff, (run_id, 1), worker="w:1")) == ["claimed"]
    assert outcomes(claims(staff, (run_id, 1), worker="w:2")) == ["taken"]
    assert BackgroundRun.objects.get(run_id=run_id).claimed_by == "w:1"


def test_the_same_dispatch_twice_in_one_batch_is_granted_once(staff):
    run_id = delayed_run(staff)
    assert outcomes(claims(staff, (run_id, 1), (run_id, 1))) == ["claimed", "taken"]


def test_refusals_in_a_batch_say_why_and_do_not_stop_the_others(staff):
    fresh, stale, finished, later = (delayed_run(staff) for _ in range(4))
    BackgroundRun.objects.filter(run_id=stale).update(dispatch=3)
    TaskRun.objects.filter(pk=finished).update(state_type="COMPLETED", state_name="Completed")
    response = claims(staff, (fresh, 1), (stale, 2), (finished, 1), (later, 2), (str(uuid.uuid4()), 1))
    assert outcomes(response) == ["claimed", "stale", "stale", "not-yet", "not-yet"]
    assert all(c["detail"] for c in response.json()["claims"][1:])


def test_a_cancelled_run_is_not_claimed(staff):
    run_id = delayed_run(staff)
    assert staff.post(f"/api/task-runs/{run_id}/cancel/").status_code == 200
    assert outcomes(claims(staff, (run_id, 1))) == ["cancelled"]


def test_a_task_run_claimed_as_a_flow_run_is_not_claimed(staff):
    run_id = delayed_run(staff)
    assert outcomes(claims(staff, (run_id, 1), kind="flow")) == ["not-yet"]
    assert BackgroundRun.objects.get(run_id=run_id).claimed_by == ""


@pytest.mark.parametrize("body", [
    {},
    {"worker": "w:1"},
    {"worker": "w:1", "claims": []},
    {"worker": "w:1", "claims": "x"},
    {"worker": "", "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 1}]},
    {"worker": 5, "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 1}]},
    {"worker": "w:1", "claims": [{"kind": "job", "id": str(uuid.uuid4()), "dispatch": 1}]},
    {"worker": "w:1", "claims": [{"kind": "task", "id": "not-a-uuid", "dispatch": 1}]},
    {"worker": "w:1", "claims": [{"kind": "task", "id": 12, "dispatch": 1}]},
    {"worker": "w:1", "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 0}]},
    {"worker": "w:1", "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 2**40}]},
    {"worker": "w:1", "claims": [{"kind": "task", "id": str(uuid.uuid4())}]},
    {"worker": "w:1", "claims": [None]},
    {"worker": "w:1", "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 1}] * 101},
    [],
])
def test_bad_bodies_are_400(staff, body):
    response = staff.post("/api/claims/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()


def test_a_form_body_is_415(staff):
    response = staff.post("/api/claims/", {"worker": "w:1"})
    assert response.status_code == 415


def test_claims_need_an_ingest_or_admin_key(db):
    from api.models import APIKey

    _, raw = APIKey.issue("reader", "read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"worker": "w:1", "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 1}]}
    assert client.post("/api/claims/", body, format="json").status_code == 403
    assert APIClient().post("/api/claims/", body, format="json").status_code == 401


@pytest.mark.parametrize("confirm", ["true", "0", 1, 0, None, "yes"])
def test_confirm_must_be_a_json_boolean(staff, confirm):
    body = {"worker": "w:1", "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 1, "confirm": confirm}]}
    response = staff.post("/api/claims/", body, format="json")
    assert response.status_code == 400, response.content
    assert "confirm" in str(response.json())
