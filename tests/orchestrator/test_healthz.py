"""`GET /healthz`: open to anyone, says the server and its database are up, echoes the launcher's token."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login(client, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_INSTANCE", "token-from-the-launcher")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "instance": "token-from-the-launcher"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reveals_no_token_when_none_was_given(client, monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_INSTANCE", raising=False)
    assert client.get("/healthz").json() == {"status": "ok", "instance": ""}


def test_healthz_only_reads(client):
    assert client.post("/healthz").status_code == 405
