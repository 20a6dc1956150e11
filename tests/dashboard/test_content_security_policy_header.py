"""Every HTML page carries the Content Security Policy, and our pages hold nothing the
policy would block: no inline script or style, no event-handler attributes.
(`tests/browser/test_content_security_policy.py` shows a real browser enforcing it.)"""
from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.api.factories import make_flow_run

# Pages to check; grows with the dashboard. (path, needs a logged-in staff user)
PAGES = [
    ("/login/", False),
    ("/", True),
    ("/admin/login/", False),
    ("/admin/", True),
    ("/admin/api/apikey/", True),
    ("/admin/orchestrator/flowrun/", True),
    ("/admin/auth/user/add/", True),
    ("/api/docs/", True),
]


class InlineCode(HTMLParser):
    """Collects what a strict policy blocks: inline scripts and styles, on*= handlers, style= attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.meta: dict[str, str] = {}
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") and attributes.get("type") != "application/json":
            self._in_inline_script = True
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "meta" and attributes.get("name"):
            self.meta[attributes["name"]] = attributes.get("content") or ""
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "style":
                self.problems.append(f"<{tag} style={value!r}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:...>")

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split() for part in header.split(";") if part.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_user("staff", password="p" * 12, is_staff=True, is_superuser=True))
    make_flow_run(name="run-for-the-list")
    return client


@pytest.fixture
def anonymous(db) -> Client:
    return Client()


def get(path: str, logged_in: bool, staff: Client, anonymous: Client):
    response = (staff if logged_in else anonymous).get(path)
    assert response.status_code == 200, path
    assert response["Content-Type"].startswith("text/html"), path
    return response


@pytest.mark.parametrize("path, logged_in", PAGES)
def test_page_has_the_strict_policy(path, logged_in, staff, anonymous):
    directives = policy(get(path, logged_in, staff, anonymous))
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]


@pytest.mark.parametrize("path, logged_in", PAGES)
def test_page_has_no_inline_script_style_or_handlers(path, logged_in, staff, anonymous):
    parser = InlineCode()
    parser.feed(get(path, logged_in, staff, anonymous).content.decode())
    assert parser.problems == [], path


@pytest.mark.parametrize("path", ["/login/", "/"])
def test_our_pages_configure_htmx_without_eval(path, staff):
    parser = InlineCode()
    parser.feed(staff.get(path).content.decode())
    config = json.loads(parser.meta["htmx-config"])
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False  # htmx would otherwise insert an inline <style>


def test_swagger_ui_start_up_script_is_served_from_our_origin(staff):
    html = staff.get("/api/docs/").content.decode()
    assert 'src="/api/docs/?script="' in html
    script = staff.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
