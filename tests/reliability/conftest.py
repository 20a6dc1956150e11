"""Reliability suites: probes, metrics, retention, 503s, rate limits, the API contract, scale-out."""
from __future__ import annotations

import os

import pytest

from tests.api.conftest import admin_api, anonymous, api, ingest_api  # noqa: F401  (fixtures)


def reachable_redis_url() -> str:
    """Tests that need Redis read it from TEST_REDIS_URL (each engineer/CI run its own database number).
    Without a reachable Redis they skip, except under CI=true where that is a failure."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Redis is required under CI=true: {url}: {exc}")
        pytest.skip(f"Redis not reachable at {url}: {exc}")
    return url


@pytest.fixture
def redis_url() -> str:
    return reachable_redis_url()
