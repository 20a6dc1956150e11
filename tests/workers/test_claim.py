"""A worker's claim of a background run's dispatch: granted once, refused with the reason otherwise."""
from __future__ import annotations

import uuid

import pytest

from orchestrator.models import BackgroundRun, TaskRun
from tests.workers.harness import delayed_run


pytestmark = pytest.mark.usefixtures("own_queues")


def claim(staff, run_id: str, worker: str = "w:1", dispatch: int = 1):
    return staff.post(f"/api/task-runs/{run_id}/claim/", {"worker": worker, "dispatch": dispatch}, format="json")


def test_the_first_claim_gets_the_parameters(staff):
    run_id = delayed_run(staff)
    response = claim(staff, run_id)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == "claimed" and body["id"] == run_id and body["parameters"] == {"a": 1}
    assert body["key"] == "add-1" and body["run_count"] == 0
    assert BackgroundRun.objects.get(run_id=run_id).claimed_by == "w:1"


def test_a_claimed_dispatch_is_not_claimed_again(staff):
    run_id = delayed_run(staff)
    assert claim(staff, run_id, "w:1").status_code == 200
    again = claim(staff, run_id, "w:2")
    assert again.status_code == 409 and again.json()["outcome"] == "taken"
    assert BackgroundRun.objects.get(run_id=run_id).claimed_by == "w:1"


def test_a_later_dispatch_is_not_yet_claimable(staff):
    run_id = delayed_run(staff)
    response = claim(staff, run_id, dispatch=2)
    assert response.status_code == 409 and response.json()["outcome"] == "not-yet"
    assert BackgroundRun.objects.get(run_id=run_id).claimed_by == ""


def test_an_unknown_run_is_not_yet_claimable(staff):
    response = claim(staff, str(uuid.uuid4()))
    assert response.status_code == 409 and response.json()["outcome"] == "not-yet"


def test_an_earlier_dispatch_is_stale(staff):
    run_id = delayed_run(staff)
    BackgroundRun.objects.filter(run_id=run_id).update(dispatch=3)
    response = claim(staff, run_id, dispatch=2)
    assert response.status_code == 409 and response.json()["outcome"] == "stale"


def test_a_finished_run_is_not_claimed(staff):
    run_id = delayed_run(staff)
    TaskRun.objects.filter(pk=run_id).update(state_type="COMPLETED", state_name="Completed")
    response = claim(staff, run_id)
    assert response.status_code == 409 and response.json()["outcome"] == "stale"
    assert BackgroundRun.objects.get(run_id=run_id).claimed_by == ""
