"""Fixtures: a stack per test module on Redis (required under CI=true), and one worker serving tests.workers.served."""
from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.workers.harness import Stack, require_redis, running_stack

SERVED = ["tests.workers.served:add", "tests.workers.served:make_point", "tests.workers.served:refuse",
          "tests.workers.served:fails_on_first_attempt", "tests.workers.served:no_op"]


@pytest.fixture(scope="module")
def redis_stack() -> Stack:
    with running_stack(require_redis()) as stack:
        yield stack


@pytest.fixture(scope="module")
def redis_worker(redis_stack: Stack):
    proc = redis_stack.start_worker(*SERVED)
    yield proc


@pytest.fixture
def own_queues(monkeypatch):
    """This test's own Celery queue names, so messages it enqueues reach no other test's worker."""
    monkeypatch.setenv("ORCHESTRATOR_QUEUE_PREFIX", f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture
def staff(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.create_user("ops", is_staff=True))
    return client

