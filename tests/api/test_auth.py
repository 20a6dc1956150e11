"""Who may call what: API-key scopes, revoked keys, sessions, anonymous requests."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from api.models import APIKey
from tests.api.factories import make_flow_run, make_task_run

READ_PATHS = [
    "/api/flow-runs/",
    "/api/flow-runs/{flow_run}/",
    "/api/flow-runs/{flow_run}/task-runs/",
    "/api/flow-runs/{flow_run}/states/",
    "/api/task-runs/",
    "/api/task-runs/{task_run}/",
    "/api/task-runs/{task_run}/states/",
    "/api/logs/",
    "/api/workers/",
    "/api/schema/",
    "/api/docs/",
]


@pytest.fixture
def paths(db) -> list[str]:
    flow_run = make_flow_run()
    task_run = make_task_run(flow_run)
    return [p.format(flow_run=flow_run.id, task_run=task_run.id) for p in READ_PATHS]


def test_anonymous_requests_get_401_with_bearer_challenge(anonymous, paths):
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert response["WWW-Authenticate"] == "Bearer", path


def test_anonymous_post_of_events_gets_401(anonymous):
    assert anonymous.post("/api/events/", {"events": []}, format="json").status_code == 401


def test_read_key_may_read_every_endpoint(api, paths):
    for path in paths:
        assert api.get(path).status_code == 200, path


def test_admin_key_may_read(admin_api, paths):
    for path in paths:
        assert admin_api.get(path).status_code == 200, path


def test_ingest_key_may_not_read(ingest_api, paths):
    for path in paths:
        assert ingest_api.get(path).status_code == 403, path


def test_read_key_may_not_post_events(api):
    response = api.post("/api/events/", {"events": []}, format="json")
    assert response.status_code == 403
    assert "scope" in response.json()["error"]


EMPTY_BATCH_RESULT = {"accepted": 0, "duplicates": 0, "rejected": []}


def test_ingest_key_may_post_events(ingest_api):
    response = ingest_api.post("/api/events/", {"events": []}, format="json")
    assert response.status_code == 200
    assert response.json() == EMPTY_BATCH_RESULT


def test_admin_key_may_post_events(admin_api):
    response = admin_api.post("/api/events/", {"events": []}, format="json")
    assert response.status_code == 200
    assert response.json() == EMPTY_BATCH_RESULT


def test_revoked_key_gets_401(db):
    key, raw = APIKey.issue("old", "admin")
    key.revoke()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/flow-runs/").status_code == 401


def test_wrong_key_gets_401(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer orc_not-a-key")
    response = anonymous.get("/api/flow-runs/")
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid or revoked API key."}


def test_malformed_authorization_header_gets_401(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer two words")
    assert anonymous.get("/api/flow-runs/").status_code == 401


def test_non_ascii_key_gets_401(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer clé".encode().decode("latin-1"))
    assert anonymous.get("/api/flow-runs/").status_code == 401


def test_logged_in_user_may_read(db, paths):
    client = APIClient()
    client.force_login(User.objects.create_user("ada", password="x" * 12))
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_read_key_may_not_post_to_a_read_endpoint(api):
    assert api.post("/api/flow-runs/", {}, format="json").status_code == 403


def test_using_a_key_records_last_used(db):
    key, raw = APIKey.issue("ci", "read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.get("/api/flow-runs/")
    key.refresh_from_db()
    assert key.last_used is not None


def test_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_unknown_api_path_still_requires_authentication(anonymous):
    assert anonymous.get("/api/no-such-thing/").status_code == 401
