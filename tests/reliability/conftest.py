"""Reliability suites: probes, metrics, retention, 503s, rate limits, the API contract, scale-out."""
from __future__ import annotations

import os

import pytest

from tests.api.conftest import admin_api, anonymous, api, ingest_api  # noqa: F401  (fixtures)


@pytest.fixture
def redis_url() -> str:
    """Tests that need Redis read it from TEST_REDIS_URL (each engineer/CI run its own database number)."""
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
