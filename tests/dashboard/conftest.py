"""Logged-in clients for the dashboard pages. Rows come from tests/api/factories.py (ORM, no ingestion)."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "x" * 3000,
]


@pytest.fixture
def admin_client(db) -> Client:
    user = get_user_model().objects.create_superuser("ada", "ada@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(db) -> Client:
    """A signed-in user without the retry permission."""
    user = get_user_model().objects.create_user("vic", "vic@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def htmx_get(admin_client):
    def get(url: str, target: str, **params):
        return admin_client.get(url, params, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)

    return get


def assert_escaped(html: str, value: str) -> None:
    """A hostile string shows as text: never as markup."""
    assert value not in html or "<" not in value and '"' not in value
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
