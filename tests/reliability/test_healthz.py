"""GET /healthz: the process answers, whatever its dependencies do."""
from __future__ import annotations


def test_healthz_answers_ok_without_authentication(client, db, monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_INSTANCE", raising=False)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "instance": ""}


def test_healthz_does_not_touch_the_database(client):
    # Without the `db` fixture pytest-django makes any database access raise.
    assert client.get("/healthz").status_code == 200


def test_healthz_is_not_cached(client, db):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


def test_healthz_refuses_post(client, db):
    assert client.post("/healthz").status_code == 405


def test_healthz_echoes_the_launchers_token(client, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_INSTANCE", "token-from-the-launcher")
    assert client.get("/healthz").json() == {"status": "ok", "instance": "token-from-the-launcher"}
