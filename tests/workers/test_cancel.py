"""Cancelling background runs: through the API, refused for runs that are not background or not cancellable."""
from __future__ import annotations


import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from orchestrator.models import BackgroundRun, TaskRun
from tests.api.factories import make_task_run
from tests.shipping.live_server import wait_until
from tests.workers.harness import delayed, delayed_run, json_line


pytestmark = pytest.mark.usefixtures("own_queues")


def test_a_scheduled_background_run_is_cancelled(staff):
    run_id = delayed_run(staff)
    response = staff.post(f"/api/task-runs/{run_id}/cancel/")
    assert response.status_code == 200, response.content
    assert response.json()["state"]["name"] == "Cancelled"
    assert BackgroundRun.objects.get(run_id=run_id).cancelled_at is not None


def test_a_cancelled_run_is_not_claimed_by_a_worker(staff):
    run_id = delayed_run(staff)
    staff.post(f"/api/task-runs/{run_id}/cancel/")
    response = staff.post(f"/api/task-runs/{run_id}/claim/", {"worker": "w", "dispatch": 1}, format="json")
    assert response.status_code == 409 and response.json()["outcome"] == "cancelled"


def test_cancelling_a_run_that_is_not_a_background_run_is_refused(staff):
    run = make_task_run(state=("RUNNING", "Running"))
    response = staff.post(f"/api/task-runs/{run.id}/cancel/")
    assert response.status_code == 409
    assert "runs in its own process, not on a task worker" in response.json()["detail"]


def test_cancelling_a_finished_run_is_refused(staff):
    run_id = delayed_run(staff)
    staff.post(f"/api/task-runs/{run_id}/cancel/")
    response = staff.post(f"/api/task-runs/{run_id}/cancel/")
    assert response.status_code == 409
    assert "is Cancelled; only Scheduled or Running runs can be cancelled" in response.json()["detail"]


def test_cancel_needs_the_retry_permission(staff):
    run_id = delayed_run(staff)
    viewer = APIClient()
    viewer.force_authenticate(User.objects.create_user("viewer"))
    assert viewer.post(f"/api/task-runs/{run_id}/cancel/").status_code == 403
    assert TaskRun.objects.get(pk=run_id).state_name == "Scheduled"


@pytest.mark.redis
def test_a_running_run_cancelled_on_a_real_worker_ends_cancelled(redis_stack):
    redis_stack.start_worker("tests.workers.served:sleepy")
    out = delayed(redis_stack, "import json\nprint(json.dumps(sleepy.delay(30).task_run_id))")
    run_id = json_line(out)
    redis_stack.wait_for_state(run_id, {"Running"})
    response = redis_stack.admin.post(f"/task-runs/{run_id}/cancel/")
    assert response.status_code == 200, response.text
    # The worker stops the run and reports nothing after the cancellation: it stays Cancelled.
    out = delayed(redis_stack, f"""
from sdk.workers.delay import BackgroundRunFuture
f = BackgroundRunFuture.of_existing({run_id!r})
f.wait(30)
print(f.state.name)
""")
    assert out.stdout.strip() == "Cancelled", out.stderr
    states = [s["name"] for s in redis_stack.states(run_id)]
    assert states[-1] == "Cancelled" and "Completed" not in states
    wait_until(lambda: f"task run {run_id} was cancelled" in redis_stack.worker_logs(), 60, 0.1, "the worker to stop the run")
    # The worker is free again: a next run completes.
    assert delayed(redis_stack, "print(sleepy.delay(0.1).result(timeout=60))").stdout.strip() == "slept"
