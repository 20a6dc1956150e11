"""Every page works under a strict Content-Security-Policy: no inline script, handler or style attribute."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.api.factories import make_flow_run, make_log, make_state, make_task_run, make_worker

pytestmark = pytest.mark.django_db
STATE_PROPERTIES = ["completed", "failed", "crashed", "running", "scheduled", "pending", "cancelled", "cancelling", "paused"]


@pytest.fixture
def pages():
    run = make_flow_run(state=("FAILED", "Failed"))
    task = make_task_run(run, state=("FAILED", "Failed"), run_count=2)
    make_state(task, "FAILED", "Failed", error={"type": "ValueError", "message": "m", "traceback": "t"})
    make_log("hello", flow_run=run, task_run=task)
    make_worker()
    return ["/", "/?state=NOPE", f"/flow-runs/{run.id}/", "/task-runs/", "/task-runs/?state=FAILED,CRASHED",
            f"/task-runs/{task.id}/", "/workers/", "/flow-runs/missing/"]


def test_no_inline_script_handlers_or_styles(admin_client, pages):
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), url
        assert not re.search(r"\sstyle\s*=", html, re.I), url
        assert "javascript:" not in html.lower(), url
        assert '"allowEval":false' in html, url


def test_login_page_is_clean_too(client):
    html = client.get("/login/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and not re.search(r"\sstyle\s*=", html)


def test_one_stylesheet_with_a_colour_per_state_type_in_light_and_dark():
    css = (Path(settings.BASE_DIR) / "static/css/app.css").read_text()
    light, dark = css.split("@media (prefers-color-scheme: dark)", 1)
    for state in STATE_PROPERTIES:
        assert f"--state-{state}:" in light and f"--state-{state}:" in dark
