"""`/task-runs/`: the "Failed" preset, filters, selection for retry."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from tests.api.factories import make_flow_run, make_task_run
from tests.dashboard.conftest import HOSTILE, assert_escaped

pytestmark = pytest.mark.django_db


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="task-run-row-([0-9a-f-]{36})"', html)


def test_logged_out_visitor_goes_to_login(client):
    response = client.get("/task-runs/?state=FAILED,CRASHED")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/task-runs/")


def test_failed_preset_link_selects_failed_crashed_and_timed_out(admin_client):
    run = make_flow_run()
    failed = make_task_run(run, state=("FAILED", "Failed"))
    timed_out = make_task_run(run, state=("FAILED", "TimedOut"))
    crashed = make_task_run(run, state=("CRASHED", "Crashed"))
    make_task_run(run, state=("COMPLETED", "Completed"))
    make_task_run(run, state=("CANCELLED", "Cancelled"))
    html = admin_client.get("/task-runs/").content.decode()
    assert re.search(r'<a class="button preset" href="/task-runs/\?state=FAILED,CRASHED"[^>]*>Failed</a>', html)
    html = admin_client.get("/task-runs/?state=FAILED,CRASHED").content.decode()
    assert set(row_ids(html)) == {str(failed.id), str(timed_out.id), str(crashed.id)}
    assert 'class="button preset active"' in html


def test_rows_have_a_checkbox_a_retry_selected_button_and_all_matching(admin_client):
    task = make_task_run(make_flow_run(), state=("FAILED", "Failed"))
    html = admin_client.get("/task-runs/?state=FAILED").content.decode()
    assert f'<input type="checkbox" name="ids" value="{task.id}"' in html
    assert ">Retry selected</button>" in html
    assert 'name="all_matching"' in html and "All matching (<span id=\"matching-count\">1</span>)" in html
    assert '<input type="hidden" name="filters" value="state=FAILED">' in html


def test_filters_by_flow_task_name_and_tag_combine(admin_client):
    etl = make_flow_run(flow="etl")
    other = make_flow_run(flow="other")
    match = make_task_run(etl, task_name="transform", tags=["gpu"], state=("FAILED", "Failed"))
    make_task_run(etl, task_name="transform", tags=["cpu"], state=("FAILED", "Failed"))
    make_task_run(etl, task_name="load", tags=["gpu"], state=("FAILED", "Failed"))
    make_task_run(other, task_name="transform", tags=["gpu"], state=("FAILED", "Failed"))
    html = admin_client.get("/task-runs/", {"flow": "etl", "name": "transform", "tag": "gpu", "state": "FAILED"}).content.decode()
    assert row_ids(html) == [str(match.id)]


def test_time_range(admin_client):
    now = timezone.now()
    recent = make_task_run(make_flow_run(), start_time=now - timedelta(minutes=10), created=now - timedelta(minutes=10))
    make_task_run(make_flow_run(), start_time=now - timedelta(days=2), created=now - timedelta(days=2))
    assert row_ids(admin_client.get("/task-runs/", {"range": "1h"}).content.decode()) == [str(recent.id)]


@pytest.mark.parametrize("params, message", [
    ({"state": "Exploded"}, "unknown state"),
    ({"started_before": "13/13/2026"}, "Started before"),
    ({"range": "<script>"}, "unknown range"),
    ({"flow_run": "not-a-uuid"}, "Flow run"),
])
def test_bad_filter_values_show_an_inline_message(admin_client, params, message):
    make_task_run(make_flow_run())
    response = admin_client.get("/task-runs/", params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and row_ids(html) == []
    assert_escaped(html, "")


def test_htmx_filter_request_gets_the_results_fragment(htmx_get):
    task = make_task_run(make_flow_run(), state=("CRASHED", "Crashed"))
    html = htmx_get("/task-runs/", "task-runs-results", state="CRASHED").content.decode()
    assert "<header" not in html and row_ids(html) == [str(task.id)]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_names_messages_and_tags_render_as_text(admin_client, hostile):
    make_task_run(make_flow_run(flow=hostile[:255]), name=hostile[:255], tags=[hostile[:255]],
                  state=("FAILED", "Failed"), state_message=hostile)
    html = admin_client.get("/task-runs/").content.decode()
    assert_escaped(html, hostile)
    assert escape(hostile[:100]) in html


def test_all_matching_shows_the_exact_count_past_a_thousand(admin_client):
    from orchestrator.models import TaskRun

    run = make_flow_run()
    TaskRun.objects.bulk_create([
        TaskRun(id=uuid.uuid4(), flow_run=run, task_name="t", task_key="t-1", name=f"t-{i}",
                created=timezone.now() - timedelta(seconds=i), state_type="FAILED", state_name="Failed")
        for i in range(1_234)
    ])
    make_task_run(run, state=("COMPLETED", "Completed"))
    html = admin_client.get("/task-runs/?state=FAILED,CRASHED").content.decode()
    # The page does not wait for the count: it asks for it once loaded.
    assert ('<span id="matching-count"><span class="muted" hx-get="/task-runs/count/?state=FAILED%2CCRASHED" '
            'hx-trigger="load" hx-target="#matching-count" hx-swap="innerHTML">counting…</span></span>') in html
    count = admin_client.get("/task-runs/count/?state=FAILED%2CCRASHED").content.decode()
    assert count.startswith("1,234<span") and "1,000+" not in count
    assert ('<span class="bulk-limit" id="bulk-limit" hx-swap-oob="true">“All matching” retries the newest 1,000 '
            'of 1,234 (at most 1,000 at once).</span>') in count


def test_no_limit_note_when_every_match_fits_in_one_bulk_retry(admin_client, monkeypatch):
    from orchestrator import retries

    monkeypatch.setattr(retries, "MAX_BULK", 3)
    run = make_flow_run()
    for _ in range(3):
        make_task_run(run, state=("FAILED", "Failed"))
    count = admin_client.get("/task-runs/count/?state=FAILED").content.decode()
    assert count.startswith("3<span") and "retries the newest" not in count
    make_task_run(run, state=("FAILED", "Failed"))
    count = admin_client.get("/task-runs/count/?state=FAILED").content.decode()
    assert count.startswith("4<span") and "retries the newest 3 of 4" in count
    page = admin_client.get("/task-runs/?state=FAILED").content.decode()  # all on one page: counted inline
    assert "All matching (<span id=\"matching-count\">4</span>)" in page and "retries the newest 3 of 4" in page


def test_count_of_bad_filters_is_zero_not_an_error(admin_client):
    response = admin_client.get("/task-runs/count/?state=Sideways")
    assert response.status_code == 200 and response.content.decode().startswith("0<span")


def test_count_needs_a_login(client):
    response = client.get("/task-runs/count/?state=FAILED")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
