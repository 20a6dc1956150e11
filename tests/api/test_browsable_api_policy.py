"""The API's HTML view (a browser at /api/...) under the Content Security Policy: no inline
<style>, and the only style attribute allowed is DRF's button float, by its hash."""
from __future__ import annotations

import re

import pytest

from api.renderers import DRF_BUTTON_STYLE, style_attribute_hash


@pytest.fixture
def page(admin_client):
    response = admin_client.get("/api/flow-runs/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response


def test_html_view_has_no_inline_style_element(page):
    assert "<style" not in page.content.decode()


def test_every_style_attribute_is_the_one_allowed_by_hash(page):
    values = set(re.findall(r'style="([^"]*)"', page.content.decode()))
    assert values <= {DRF_BUTTON_STYLE}


def test_policy_allows_only_that_style_attribute(page):
    header = page["Content-Security-Policy"]
    assert f"style-src-attr 'unsafe-hashes' {style_attribute_hash(DRF_BUTTON_STYLE)}" in header
    assert "style-src 'self';" in header + ";"
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header


def test_json_responses_are_unchanged(admin_client, db):
    response = admin_client.get("/api/flow-runs/", HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/json"
    assert "style-src-attr" not in response["Content-Security-Policy"]
