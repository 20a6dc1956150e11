"""API keys are remembered for a short bound: a busy client's requests cost no key query, and a
revocation made elsewhere (another server process) stops the key within that bound."""
from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api import models
from api.models import APIKey


def client_for(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def key_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "api_apikey" in q["sql"] and q["sql"].startswith("SELECT")]


@pytest.mark.django_db
def test_a_recently_used_key_is_not_read_again():
    _, raw = APIKey.issue("busy", "read")
    client = client_for(raw)
    assert client.get("/api/flow-runs/").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/flow-runs/").status_code == 200
    assert key_queries(captured) == []


@pytest.mark.django_db
def test_a_key_revoked_here_stops_at_once():
    key, raw = APIKey.issue("revoked-here", "read")
    client = client_for(raw)
    assert client.get("/api/flow-runs/").status_code == 200
    key.revoke()
    assert client.get("/api/flow-runs/").status_code == 401


@pytest.mark.django_db
def test_keys_revoked_in_bulk_here_stop_at_once():
    key, raw = APIKey.issue("bulk-revoked", "read")
    client = client_for(raw)
    assert client.get("/api/flow-runs/").status_code == 200
    APIKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())  # what the admin's action does
    assert client.get("/api/flow-runs/").status_code == 401


@pytest.mark.django_db
def test_a_key_revoked_by_another_process_stops_within_the_bound(monkeypatch):
    monkeypatch.setattr(models._recent, "seconds", 0.3)
    key, raw = APIKey.issue("revoked-elsewhere", "read")
    client = client_for(raw)
    assert client.get("/api/flow-runs/").status_code == 200
    revoked_at = time.monotonic()
    with connection.cursor() as cursor:  # as another process would: no model code runs here
        cursor.execute("UPDATE api_apikey SET revoked_at = %s WHERE id = %s", [timezone.now(), key.pk])
    deadline = revoked_at + 5
    while client.get("/api/flow-runs/").status_code == 200:
        assert time.monotonic() < deadline, "the revoked key still works after 5 s"
        time.sleep(0.05)
    assert time.monotonic() - revoked_at < 0.3 + 0.5  # the bound, plus a request's time on a busy machine
    assert client.get("/api/flow-runs/").status_code == 401
