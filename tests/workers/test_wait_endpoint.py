"""GET /api/task-runs/{id}/wait/: answers at once for a final run, after `timeout` otherwise; bad input is a 4xx."""
from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import client_with_key
from tests.api.factories import make_state, make_task_run

pytestmark = pytest.mark.django_db(transaction=True)


def wait(client, run_id, timeout="0"):
    return client.get(f"/api/task-runs/{run_id}/wait/", {"timeout": timeout})


def test_a_final_run_answers_at_once_with_its_result():
    run = make_task_run(state=("COMPLETED", "Completed"), run_count=1)
    make_state(run, "COMPLETED", "Completed", result={"total": 3})
    body = wait(client_with_key("read"), run.id, "30").json()
    assert (body["final"], body["state"]["name"], body["result"], body["run_count"]) == (True, "Completed", {"total": 3}, 1)


def test_a_failed_run_answers_with_its_error():
    run = make_task_run(state=("FAILED", "Failed"))
    make_state(run, "FAILED", "Failed", error={"type": "ValueError", "message": "no", "traceback": "tb"})
    body = wait(client_with_key("ingest"), run.id).json()
    assert body["error"] == {"type": "ValueError", "message": "no", "traceback": "tb"} and "result" not in body


def test_an_unfinished_run_answers_not_final_when_the_timeout_passes():
    run = make_task_run(state=("SCHEDULED", "Scheduled"))
    response = wait(client_with_key("read"), run.id, "0.2")
    assert response.status_code == 200
    assert (response.json()["final"], response.json()["state"]["name"]) == (False, "Scheduled")


@pytest.mark.parametrize("timeout", ["soon", "-1", "nan", "inf"])
def test_a_bad_timeout_is_400(timeout):
    run = make_task_run()
    response = wait(client_with_key("read"), run.id, timeout)
    assert response.status_code == 400 and "timeout" in response.json()["error"]


def test_unknown_and_malformed_ids_are_404():
    client = client_with_key("read")
    assert wait(client, uuid.uuid4()).status_code == 404
    assert wait(client, "not-a-uuid").status_code == 404


def test_authentication_is_required(client):
    run = make_task_run()
    assert wait(client, run.id).status_code == 401
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer orc_nope"
    assert wait(client, run.id).status_code == 401


def post_wait(client, body):
    return client.post("/api/task-runs/wait/", body, content_type="application/json")


def test_waiting_for_many_brings_back_the_others_that_are_final(client):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("ops"))
    waited = make_task_run(state=("COMPLETED", "Completed"))
    make_state(waited, "COMPLETED", "Completed", result=1)
    done = make_task_run(state=("FAILED", "Failed"))
    pending = make_task_run(state=("RUNNING", "Running"))
    body = post_wait(client, {"ids": [str(waited.id), str(done.id), str(pending.id), str(uuid.uuid4())], "timeout": 5}).json()
    assert [(r["id"], r["final"]) for r in body["runs"]] == [(str(waited.id), True), (str(done.id), True)]
    assert body["runs"][0]["result"] == 1


def test_waiting_for_many_answers_for_the_first_when_the_timeout_passes():
    first = make_task_run(state=("SCHEDULED", "Scheduled"))
    body = post_wait(client_with_key("read"), {"ids": [str(first.id)], "timeout": 0.1}).json()
    assert body["runs"][0]["final"] is False


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": "x"}, {"ids": ["nope"]}, {"ids": [str(uuid.uuid4())], "timeout": "-1"},
                                  {"ids": [str(uuid.uuid4())] * 1001}])
def test_bad_wait_bodies_are_400(body):
    response = post_wait(client_with_key("read"), body)
    assert response.status_code == 400 and response.json()["error"]


def test_waiting_for_many_needs_authentication(client):
    assert post_wait(client, {"ids": [str(uuid.uuid4())]}).status_code == 401
