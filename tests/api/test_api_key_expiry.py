"""API keys that expire, and when a key was last used (written at most once a minute)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import APIKey


def client_for(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.django_db
def test_expired_key_gets_401_saying_it_expired():
    key, raw = APIKey.issue("old", "read", expires_in=timedelta(days=1))
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_for(raw).get("/api/flow-runs/")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
def test_expired_ingest_key_cannot_post_events():
    key, raw = APIKey.issue("old", "ingest", expires_in=timedelta(days=1))
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(minutes=5))
    response = client_for(raw).post("/api/events/", {"events": []}, format="json")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]


@pytest.mark.django_db
def test_key_that_has_not_expired_yet_works():
    _, raw = APIKey.issue("fresh", "read", expires_in=timedelta(days=90))
    assert client_for(raw).get("/api/flow-runs/").status_code == 200


@pytest.mark.django_db
def test_key_without_expiry_never_expires():
    key, raw = APIKey.issue("forever", "read")
    assert key.expires_at is None and not key.is_expired
    assert client_for(raw).get("/api/flow-runs/").status_code == 200


@pytest.mark.django_db
def test_issue_sets_expiry_from_now():
    before = timezone.now()
    key, _ = APIKey.issue("k", "read", expires_in=timedelta(days=90))
    assert before + timedelta(days=90) <= key.expires_at <= timezone.now() + timedelta(days=90)


@pytest.mark.django_db
def test_issue_refuses_a_lifetime_that_is_not_positive():
    with pytest.raises(ValueError):
        APIKey.issue("k", "read", expires_in=timedelta(0))


def last_used_updates(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith("UPDATE") and "last_used" in q["sql"])


@pytest.mark.django_db
def test_first_use_records_last_used():
    key, raw = APIKey.issue("ci", "read")
    client_for(raw).get("/api/flow-runs/")
    key.refresh_from_db()
    assert key.last_used is not None and timezone.now() - key.last_used < timedelta(minutes=1)


@pytest.mark.django_db
def test_last_used_is_written_at_most_once_a_minute():
    _, raw = APIKey.issue("busy", "ingest")
    client = client_for(raw)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert client.post("/api/events/", {"events": []}, format="json").status_code == 200
    assert last_used_updates(queries.captured_queries) == 1


@pytest.mark.django_db
def test_last_used_is_written_again_after_a_minute():
    key, raw = APIKey.issue("busy", "read")
    long_ago = timezone.now() - timedelta(minutes=2)
    APIKey.objects.filter(pk=key.pk).update(last_used=long_ago)
    with CaptureQueriesContext(connection) as queries:
        client_for(raw).get("/api/flow-runs/")
    assert last_used_updates(queries.captured_queries) == 1
    key.refresh_from_db()
    assert key.last_used > long_ago + timedelta(minutes=1)
