"""The `channel_layer` fixture of the live-update tests: the in-memory layer and channels-redis.
(A module the tests import, not conftest.py, so the dashboard's other tests keep theirs.)

channels-redis runs against TEST_REDIS_URL (default redis://127.0.0.1:6379/0) with a
key prefix unique to this test run, so engineers and CI sharing one Redis never see
each other's groups. Without Redis the redis-layer tests skip, except under CI=true.
"""
from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlparse

import pytest
from django.conf import settings as django_settings

from orchestrator import broadcast
from orchestrator.config import channel_redis_host

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_PREFIX = f"test-live-{uuid.uuid4().hex[:12]}"
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def redis_problem() -> str | None:
    parsed = urlparse(REDIS_URL)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=2):
            return None
    except OSError as exc:
        return f"Redis at {REDIS_URL} is not reachable: {exc}"


def layer_settings(kind: str) -> dict:
    """As orchestrator/settings.py configures each kind; channels-redis under a prefix of its own."""
    capacity = {"capacity": django_settings.CHANNEL_CAPACITY}
    if kind == "memory":
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": capacity}}
    prefix = f"{RUN_PREFIX}-{uuid.uuid4().hex[:8]}"
    return {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                        "CONFIG": {"hosts": [channel_redis_host(REDIS_URL)], "prefix": prefix,
                                   **capacity}}}


@pytest.fixture(params=["memory", "redis"])
def channel_layer(request, settings):
    """The configured channel layer (each kind in turn), empty, with publishing re-enabled."""
    if request.param == "redis":
        problem = redis_problem()
        if problem:
            if CI:
                pytest.fail(f"Redis is required under CI=true: {problem}")
            pytest.skip(problem)
    settings.CHANNEL_LAYERS = layer_settings(request.param)  # channels resets its layers on setting_changed
    broadcast._publisher.quiet_until = 0.0
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    yield layer
    broadcast.flush(10)
    if request.param == "redis":
        # Delete this test's keys; layer.flush() would also close pools of the publisher's event loop.
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{layer.prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
