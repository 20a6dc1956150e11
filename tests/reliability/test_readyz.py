"""GET /readyz: 200 when the database (and Redis, when configured) answer; 503 otherwise."""
from __future__ import annotations

from tests.shipping.live_server import free_port


def test_readyz_is_ok_when_the_database_answers(client, db, settings):
    settings.REDIS_URL = None
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_readyz_checks_redis_when_configured(client, db, settings, redis_url):
    settings.REDIS_URL = redis_url
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_with_retry_after_when_redis_is_unreachable(client, db, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    body = response.json()
    assert body["status"] == "unavailable"
    assert set(body["problems"]) == {"redis"}


def test_readyz_needs_no_authentication(client, db, settings):
    settings.REDIS_URL = None
    assert client.get("/readyz").status_code == 200
