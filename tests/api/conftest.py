"""API clients per key scope. Row factories are in tests/api/factories.py."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api.models import APIKey


def client_with_key(scope: str) -> APIClient:
    _, raw = APIKey.issue(f"test-{scope}", scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(db) -> APIClient:
    """A client with a `read` key: what the read endpoints need."""
    return client_with_key("read")


@pytest.fixture
def ingest_api(db) -> APIClient:
    return client_with_key("ingest")


@pytest.fixture
def admin_api(db) -> APIClient:
    return client_with_key("admin")


@pytest.fixture
def anonymous(db) -> APIClient:
    return APIClient()

