"""`/`: the runs list, its filters, activity chart and htmx fragment."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from tests.api.factories import make_flow_run, make_task_run
from tests.dashboard.conftest import HOSTILE, assert_escaped

pytestmark = pytest.mark.django_db


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="flow-run-([0-9a-f-]{36})"', html)


def test_logged_out_visitor_goes_to_login_and_back(client):
    response = client.get("/?state=FAILED")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert "state%3DFAILED" in response["Location"]


def test_lists_flow_runs_newest_first_with_badge_flow_and_task_counts(admin_client):
    older = make_flow_run(flow="etl", name="older-run")
    newer = make_flow_run(flow="reports", name="newer-run", state=("FAILED", "Failed"))
    make_task_run(newer, state=("COMPLETED", "Completed"))
    make_task_run(newer, state=("FAILED", "Failed"))
    html = admin_client.get("/").content.decode()
    assert row_ids(html) == [str(newer.id), str(older.id)]
    assert '<tbody id="runs-body">' in html
    assert f'<tr id="flow-run-{newer.id}" data-state-type="FAILED"' in html
    assert '<span class="state-badge state-failed" data-state-type="FAILED">Failed</span>' in html
    assert "reports" in html and "newer-run" in html
    assert "1 completed, 1 failed" in html


def test_header_has_navigation_user_and_logout(admin_client):
    html = admin_client.get("/").content.decode()
    for link in ('href="/"', 'href="/task-runs/"', 'href="/workers/"'):
        assert link in html
    assert "ada" in html
    assert 'action="/logout/"' in html and 'method="post"' in html


def test_filters_combine(admin_client):
    match = make_flow_run(flow="etl", state=("FAILED", "Failed"), tags=["nightly"])
    make_flow_run(flow="etl", state=("COMPLETED", "Completed"), tags=["nightly"])
    make_flow_run(flow="other", state=("FAILED", "Failed"), tags=["nightly"])
    make_flow_run(flow="etl", state=("FAILED", "Failed"), tags=["adhoc"])
    html = admin_client.get("/", {"state": "FAILED", "flow": "etl", "tag": "nightly"}).content.decode()
    assert row_ids(html) == [str(match.id)]


def test_repeated_state_checkboxes_combine_into_one_state_filter(admin_client):
    failed = make_flow_run(state=("FAILED", "Failed"))
    crashed = make_flow_run(state=("CRASHED", "Crashed"))
    make_flow_run(state=("COMPLETED", "Completed"))
    html = admin_client.get("/?state=FAILED&state=CRASHED").content.decode()
    assert set(row_ids(html)) == {str(failed.id), str(crashed.id)}
    assert 'value="FAILED" checked' in html and 'value="CRASHED" checked' in html


def test_time_range_preset_keeps_recent_runs(admin_client):
    now = timezone.now()
    recent = make_flow_run(created=now - timedelta(minutes=5), start_time=now - timedelta(minutes=5))
    make_flow_run(created=now - timedelta(days=3), start_time=now - timedelta(days=3))
    html = admin_client.get("/", {"range": "24h"}).content.decode()
    assert row_ids(html) == [str(recent.id)]


@pytest.mark.parametrize("params, message", [
    ({"state": "NOPE"}, "unknown state"),
    ({"range": "fortnight"}, "unknown range"),
    ({"started_after": "yesterday-ish"}, "Started after"),
    ({"before": "not-a-time"}, "Page"),
    ({"tag": "t" * 300}, "Tag"),
])
def test_bad_filter_values_show_an_inline_message(admin_client, params, message):
    make_flow_run()
    response = admin_client.get("/", params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="filter-errors"' in html and message in html
    assert row_ids(html) == []


def test_unknown_flow_shows_no_runs_and_no_error(admin_client):
    make_flow_run(flow="etl")
    response = admin_client.get("/", {"flow": "nope"})
    assert response.status_code == 200
    assert "No flow runs match these filters." in response.content.decode()


def test_activity_chart_stacks_runs_by_state(admin_client):
    now = timezone.now()
    make_flow_run(created=now - timedelta(minutes=3), state=("FAILED", "Failed"))
    make_flow_run(created=now - timedelta(minutes=2), state=("COMPLETED", "Completed"))
    html = admin_client.get("/").content.decode()
    chart = html[html.index('id="activity"'):html.index("</svg>", html.index('id="activity"'))]
    assert 'class="fill-failed"' in chart and 'class="fill-completed"' in chart


def test_htmx_filter_request_gets_only_the_results_fragment(htmx_get):
    run = make_flow_run(state=("FAILED", "Failed"))
    response = htmx_get("/", "runs-results", state="FAILED")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<header" not in html
    assert '<tbody id="runs-body">' in html and str(run.id) in html


def test_history_restore_gets_the_full_page(admin_client):
    response = admin_client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="runs-results",
                                HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()


def test_older_page_link_continues_after_the_last_row(admin_client):
    runs = [make_flow_run(name=f"run-{i}") for i in range(55)]
    html = admin_client.get("/").content.decode()
    assert len(row_ids(html)) == 50
    older = re.search(r'href="\?(before=[^"]+)"', html).group(1).replace("&amp;", "&")
    html = admin_client.get(f"/?{older}").content.decode()
    assert row_ids(html) == [str(run.id) for run in reversed(runs[:5])]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_names_and_tags_render_as_text(admin_client, hostile):
    make_flow_run(flow=hostile[:255], name=hostile[:255], tags=[hostile[:255]])
    html = admin_client.get("/").content.decode()
    assert_escaped(html, hostile)
    assert escape(hostile[:255]) in html


def test_hostile_filter_values_are_escaped_in_the_form_and_message(admin_client):
    html = admin_client.get("/", {"state": '"><script>alert(1)</script>', "tag": '"><img src=x onerror=alert(1)>'}).content.decode()
    assert_escaped(html, "")


def test_scheduled_runs_show_why_they_wait(admin_client, monkeypatch):
    from orchestrator import retries

    monkeypatch.setattr(retries, "waiting_for_worker", lambda run: "waiting for a worker that serves etl")
    make_flow_run(state=("SCHEDULED", "Scheduled"))
    assert "waiting for a worker that serves etl" in admin_client.get("/").content.decode()
