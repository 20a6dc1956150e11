"""Django admin: API keys (list, revoke, never the hash) and read-only runs."""
from __future__ import annotations

import pytest

from api.models import APIKey
from tests.api.factories import make_flow_run, make_log, make_task_run


@pytest.fixture
def key(db) -> APIKey:
    return APIKey.issue("ci", "read")[0]


def test_key_list_shows_name_scope_prefix(admin_client, key):
    html = admin_client.get("/admin/api/apikey/").content.decode()
    assert "ci" in html and key.prefix in html and "read" in html


def test_key_pages_never_show_the_hash(admin_client, key):
    for path in ["/admin/api/apikey/", f"/admin/api/apikey/{key.pk}/change/"]:
        assert key.hashed_key not in admin_client.get(path).content.decode()


def test_revoke_selected_keys_action(admin_client, key):
    other = APIKey.issue("keep", "ingest")[0]
    response = admin_client.post(
        "/admin/api/apikey/", {"action": "revoke_selected", "_selected_action": [key.pk]}, follow=True
    )
    assert response.status_code == 200
    key.refresh_from_db()
    other.refresh_from_db()
    assert key.revoked_at is not None and other.revoked_at is None


def test_revoked_key_stops_working_at_once(admin_client, key, anonymous):
    raw_key, raw = APIKey.issue("doomed", "read")
    admin_client.post("/admin/api/apikey/", {"action": "revoke_selected", "_selected_action": [raw_key.pk]})
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert anonymous.get("/api/flow-runs/").status_code == 401


def test_keys_cannot_be_added_in_admin(admin_client, db):
    assert admin_client.get("/admin/api/apikey/add/").status_code == 403


def test_editing_a_key_cannot_change_its_hash_or_scope(admin_client, key):
    admin_client.post(f"/admin/api/apikey/{key.pk}/change/", {"name": "renamed", "scope": "admin", "hashed_key": "x"})
    key.refresh_from_db()
    assert (key.name, key.scope) == ("renamed", "read")
    assert key.hashed_key != "x"


@pytest.mark.parametrize("path", ["/admin/orchestrator/flowrun/", "/admin/orchestrator/taskrun/", "/admin/orchestrator/log/"])
def test_run_lists_open(admin_client, db, path):
    make_task_run(make_flow_run())
    make_log()
    assert admin_client.get(path).status_code == 200


def test_flow_run_list_filters_on_state(admin_client, db):
    make_flow_run(name="bad-run", state=("FAILED", "Failed"))
    make_flow_run(name="good-run", state=("COMPLETED", "Completed"))
    html = admin_client.get("/admin/orchestrator/flowrun/?state_type__exact=FAILED").content.decode()
    assert "bad-run" in html and "good-run" not in html


def test_task_run_list_searches_by_name(admin_client, db):
    make_task_run(name="load-abc")
    make_task_run(name="extract-def")
    html = admin_client.get("/admin/orchestrator/taskrun/?q=load").content.decode()
    assert "load-abc" in html and "extract-def" not in html


def test_search_with_text_that_is_not_an_id_works(admin_client, db):
    assert admin_client.get("/admin/orchestrator/flowrun/?q=not-a-uuid").status_code == 200


def test_runs_are_read_only(admin_client, db):
    run = make_flow_run()
    assert admin_client.get("/admin/orchestrator/flowrun/add/").status_code == 403
    page = admin_client.get(f"/admin/orchestrator/flowrun/{run.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


def test_key_list_shows_scope_expiry_and_last_use(admin_client, db):
    from datetime import datetime, timezone

    used = APIKey.issue("used-key", "admin")[0]
    used.last_used = datetime(2026, 11, 20, 8, 15, tzinfo=timezone.utc)
    used.expires_at = datetime(2027, 2, 18, 8, 15, tzinfo=timezone.utc)
    used.save(update_fields=["last_used", "expires_at"])
    html = admin_client.get("/admin/api/apikey/").content.decode()
    for column in ["Scope", "Expires at", "Last used", "Status"]:
        assert column in html, column
    assert "Nov. 20, 2026" in html  # its last use
    assert "Feb. 18, 2027" in html  # its expiry


def test_key_status_says_active_expired_or_revoked(admin_client, db):
    from datetime import timedelta

    from django.utils import timezone

    APIKey.issue("live-key", "read", expires_in=timedelta(days=1))
    expired = APIKey.issue("expired-key", "read", expires_in=timedelta(days=1))[0]
    APIKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    APIKey.issue("revoked-key", "read")[0].revoke()
    for status, name in [("active", "live-key"), ("expired", "expired-key"), ("revoked", "revoked-key")]:
        html = admin_client.get(f"/admin/api/apikey/?status={status}").content.decode()
        assert name in html, status
        others = {"live-key", "expired-key", "revoked-key"} - {name}
        assert not any(other in html for other in others), status
