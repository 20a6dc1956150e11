"""Retry buttons: CSRF-checked POSTs that call orchestrator.retries and show the outcome or the refusal."""
from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from orchestrator import retries
from tests.api.factories import make_flow_run, make_task_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_task():
    return make_task_run(make_flow_run(), state=("FAILED", "Failed"))


@pytest.fixture
def csrf_client(db) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_superuser("csrf", "c@example.com", "pw"))
    return client


def test_post_without_csrf_token_is_refused(csrf_client, failed_task, monkeypatch):
    called = []
    monkeypatch.setattr(retries, "retry_task_run", lambda run_id, user: called.append(run_id))
    for url in (f"/task-runs/{failed_task.id}/retry/", f"/flow-runs/{failed_task.flow_run_id}/retry/", "/task-runs/retry/"):
        assert csrf_client.post(url, {"ids": [str(failed_task.id)]}).status_code == 403
    assert called == []


def test_csrf_header_from_the_page_is_accepted(csrf_client, failed_task, monkeypatch):
    monkeypatch.setattr(retries, "retry_task_run", lambda run_id, user: None)
    page = csrf_client.get(f"/task-runs/{failed_task.id}/")
    token = page.cookies["csrftoken"].value
    response = csrf_client.post(f"/task-runs/{failed_task.id}/retry/", HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 200


def test_get_is_not_allowed(admin_client, failed_task):
    assert admin_client.get(f"/task-runs/{failed_task.id}/retry/").status_code == 405


def test_logged_out_post_goes_to_login(client, failed_task):
    response = client.post(f"/task-runs/{failed_task.id}/retry/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_unknown_run_is_404(admin_client):
    assert admin_client.post(f"/task-runs/{uuid.uuid4()}/retry/").status_code == 404
    assert admin_client.post("/flow-runs/nope/retry/").status_code == 404


def test_refusal_shows_the_reason_next_to_the_button_with_409(admin_client, failed_task, monkeypatch):
    def refuse(run_id, user):
        raise retries.RetryRefused("No live worker serves transform-5f3a.")

    monkeypatch.setattr(retries, "retry_task_run", refuse)
    response = admin_client.post(f"/task-runs/{failed_task.id}/retry/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    html = response.content.decode()
    assert html.startswith('<div class="retry" id="task-run-retry">')
    assert "No live worker serves transform-5f3a." in html and ">Retry</button>" in html
    full = admin_client.post(f"/task-runs/{failed_task.id}/retry/")
    assert full.status_code == 409 and "No live worker serves transform-5f3a." in full.content.decode()
    assert 'id="task-run-summary"' in full.content.decode()


def test_permission_refusal_is_403(admin_client, failed_task, monkeypatch):
    def refuse(run_id, user):
        raise retries.RetryRefused("You may not retry runs.", status=403)

    monkeypatch.setattr(retries, "retry_flow_run", refuse)
    response = admin_client.post(f"/flow-runs/{failed_task.flow_run_id}/retry/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and "You may not retry runs." in response.content.decode()


def test_accepted_retry_says_so(admin_client, failed_task, monkeypatch):
    calls = []
    monkeypatch.setattr(retries, "retry_task_run", lambda run_id, user: calls.append((run_id, user.username)))
    response = admin_client.post(f"/task-runs/{failed_task.id}/retry/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Retry scheduled" in response.content.decode()
    assert calls == [(failed_task.id, "ada")]
    plain = admin_client.post(f"/task-runs/{failed_task.id}/retry/")
    assert plain.status_code == 302 and plain["Location"] == f"/task-runs/{failed_task.id}/"


def test_user_without_permission_sees_a_disabled_button(viewer_client, failed_task):
    html = viewer_client.get(f"/task-runs/{failed_task.id}/").content.decode()
    assert 'disabled title="You need the permission to retry runs (orchestrator.retry_run)."' in html


def test_bulk_retry_of_selected_ids(admin_client, failed_task, monkeypatch):
    other = make_task_run(make_flow_run(), state=("CRASHED", "Crashed"))
    seen = []

    def retry_many(ids, user):
        seen.append(sorted(ids, key=str))
        return retries.RetryBatch(retried=[failed_task.id], refused={other.id: "No live worker serves it."})

    monkeypatch.setattr(retries, "retry_task_runs", retry_many)
    response = admin_client.post("/task-runs/retry/", {"ids": [str(failed_task.id), str(other.id)]}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Retrying 1 task run." in html and "1 refused: No live worker serves it." in html
    assert seen == [sorted([failed_task.id, other.id], key=str)]


def test_bulk_retry_of_all_matching_uses_the_posted_filters(admin_client, failed_task, monkeypatch):
    make_task_run(make_flow_run(), state=("COMPLETED", "Completed"))
    seen = []
    monkeypatch.setattr(retries, "retry_task_runs", lambda ids, user: seen.append(list(ids)) or retries.RetryBatch(retried=list(ids)))
    response = admin_client.post("/task-runs/retry/", {"all_matching": "1", "filters": "state=FAILED,CRASHED"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and seen == [[failed_task.id]]


@pytest.mark.parametrize("data, message", [
    ({}, "Select task runs first"),
    ({"ids": ["<script>alert(1)</script>"]}, "is not a task run id"),
    ({"all_matching": "1", "filters": "state=NOPE"}, "unknown state"),
])
def test_bulk_retry_bad_input_is_a_clear_400(admin_client, data, message):
    response = admin_client.post("/task-runs/retry/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert message in response.content.decode() and "<script>alert" not in response.content.decode()



def test_bulk_retry_of_all_matching_takes_the_newest_max_bulk_as_the_page_says(admin_client, monkeypatch):
    monkeypatch.setattr(retries, "MAX_BULK", 2)
    run = make_flow_run()
    oldest, middle, newest = (make_task_run(run, state=("FAILED", "Failed")) for _ in range(3))
    page = admin_client.get("/task-runs/?state=FAILED").content.decode()
    assert "retries the newest 2 of 3" in page
    seen = []
    monkeypatch.setattr(retries, "retry_task_runs", lambda ids, user: seen.append(list(ids)) or retries.RetryBatch(retried=list(ids)))
    response = admin_client.post("/task-runs/retry/", {"all_matching": "1", "filters": "state=FAILED"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Retrying 2 task runs." in response.content.decode()
    assert seen == [[newest.id, middle.id]]


def test_bulk_retry_over_the_limit_is_a_clear_400_not_an_error_page(admin_client, monkeypatch):
    monkeypatch.setattr(retries, "MAX_BULK", 1)
    run = make_flow_run()
    ids = [str(make_task_run(run, state=("FAILED", "Failed")).id) for _ in range(2)]
    response = admin_client.post("/task-runs/retry/", {"ids": ids}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "At most 1 runs can be retried at once" in response.content.decode()
