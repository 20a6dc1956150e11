"""`/flow-runs/<id>/`: Gantt rows, retry attempts, dependencies, state history, parameters, logs."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils.html import escape

from tests.api.factories import T0, make_flow_run, make_log, make_state, make_task_run
from tests.dashboard.conftest import HOSTILE, assert_escaped

pytestmark = pytest.mark.django_db


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def flow_run():
    run = make_flow_run(flow="etl", name="brave-otter", start_time=at(0), end_time=at(10), parameters={"day": "2026-11-30"})
    make_state(run, "RUNNING", "Running", timestamp=at(0))
    make_state(run, "COMPLETED", "Completed", timestamp=at(10))
    return run


def test_logged_out_visitor_goes_to_login(client, flow_run):
    response = client.get(f"/flow-runs/{flow_run.id}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/flow-runs/")


def test_unknown_and_malformed_ids_are_404(admin_client):
    assert admin_client.get(f"/flow-runs/{uuid.uuid4()}/").status_code == 404
    response = admin_client.get("/flow-runs/not-a-uuid/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_gantt_has_one_row_per_task_run_placed_on_the_run_span(admin_client, flow_run):
    first = make_task_run(flow_run, name="extract", start_time=at(0), end_time=at(5), created=at(0))
    second = make_task_run(flow_run, name="load", start_time=at(5), end_time=at(10), created=at(1),
                           state=("FAILED", "TimedOut"), upstream_task_run_ids=[str(first.id)])
    html = admin_client.get(f"/flow-runs/{flow_run.id}/").content.decode()
    assert 'id="gantt"' in html and 'id="flow-run-summary"' in html
    assert f'id="task-run-{first.id}" class="gantt-row" data-state-type="COMPLETED" data-state-name="Completed"' in html
    assert f'id="task-run-{second.id}" class="gantt-row" data-state-type="FAILED" data-state-name="TimedOut"' in html
    row = html[html.index(f'id="task-run-{second.id}"'):]
    assert f'data-upstream="{first.id}"' in row[:400]
    bar = re.search(r'<rect class="fill-failed" x="([\d.]+)" y="1.5" width="([\d.]+)"', row)
    assert (float(bar.group(1)), float(bar.group(2))) == (500.0, 500.0)


def test_retried_task_run_shows_one_segment_per_attempt(admin_client, flow_run):
    run = make_task_run(flow_run, name="flaky", start_time=at(1), end_time=at(6), run_count=2)
    # The SDK moves a failed attempt that will be retried straight to AwaitingRetry.
    for seconds, type_, name, count in [(1, "RUNNING", "Running", 1), (2, "SCHEDULED", "AwaitingRetry", 1),
                                        (4, "RUNNING", "Retrying", 2), (6, "COMPLETED", "Completed", 2)]:
        make_state(run, type_, name, timestamp=at(seconds), run_count=count)
    html = admin_client.get(f"/flow-runs/{flow_run.id}/").content.decode()
    row = html[html.index(f'id="task-run-{run.id}"'):]
    row = row[:row.index("</li>")]
    assert re.findall(r'<rect class="fill-(\w+)"', row) == ["failed", "completed"]
    assert "×2" in row and "attempt 1: failed" in row and "attempt 2: completed" in row


def test_running_bar_reaches_now_on_an_axis_with_room_to_grow(admin_client):
    from django.utils import timezone

    now = timezone.now()
    run = make_flow_run(state=("RUNNING", "Running"), start_time=now - timedelta(seconds=10), created=now - timedelta(seconds=10))
    task = make_task_run(run, state=("RUNNING", "Running"), start_time=now - timedelta(seconds=5), created=now - timedelta(seconds=6))
    html = admin_client.get(f"/flow-runs/{run.id}/").content.decode()
    gantt = re.search(r'id="gantt" class="gantt" data-gantt-layout="\w+" data-axis-start="(\d+)" data-axis-end="(\d+)" '
                      r'data-axis-renew="(\d+)"', html)
    start, end, renew = (int(v) for v in gantt.groups())
    # 10 s in: the axis spans a round 15 s and gives way to the next one at 80% of it (12 s).
    assert end - start == 15_000 and renew - start == 12_000
    row = html[html.index(f'id="task-run-{task.id}"'):]
    x, width, since = re.search(
        r'<rect class="fill-running" x="([\d.]+)" y="1.5" width="([\d.]+)" height="7" data-since="(\d+)"', row).groups()
    assert 320 <= float(x) <= 345 and 650 <= float(x) + float(width) <= 700  # from 5 s to now (10 s) of 15 s
    assert int(since) == int(task.start_time.timestamp() * 1000)
    assert re.search(r'<span class="gantt-dur" data-since="\d+">5\.\ds</span>', row)


def test_finished_bars_do_not_tick(admin_client, flow_run):
    make_task_run(flow_run, state=("COMPLETED", "Completed"), start_time=at(1), end_time=at(4), created=at(1))
    html = admin_client.get(f"/flow-runs/{flow_run.id}/").content.decode()
    assert 'class="gantt-row"' in html and "data-since" not in html and "data-axis-renew" not in html


def test_gantt_pages_long_runs(admin_client, flow_run, monkeypatch):
    from dashboard import gantt

    monkeypatch.setattr(gantt, "PAGE_SIZE", 3)
    runs = [make_task_run(flow_run, name=f"t{i}", start_time=at(i), end_time=at(i + 1)) for i in range(7)]
    html = admin_client.get(f"/flow-runs/{flow_run.id}/", {"page": 3}).content.decode()
    assert re.findall(r'id="task-run-([0-9a-f-]{36})" class="gantt-row"', html) == [str(runs[6].id)]
    assert "7–7 of 7" in html and "page 3 of 3" in html
    assert admin_client.get(f"/flow-runs/{flow_run.id}/", {"page": "junk"}).status_code == 200


def test_child_flow_runs_are_linked(admin_client, flow_run):
    child = make_flow_run(flow="child-report", name="little-owl", parent_flow_run_id=flow_run.id)
    html = admin_client.get(f"/flow-runs/{flow_run.id}/").content.decode()
    assert f'href="/flow-runs/{child.id}/"' in html and "little-owl" in html


def test_state_history_and_parameters(admin_client, flow_run):
    html = admin_client.get(f"/flow-runs/{flow_run.id}/").content.decode()
    history = html[html.index('id="flow-run-states"'):]
    assert history.index(">Running<") < history.index(">Completed<")
    assert "&quot;day&quot;: &quot;2026-11-30&quot;" in html


def test_logs_filter_by_minimum_level_and_text(admin_client, flow_run):
    info = make_log("loaded 10 rows", level=20, flow_run=flow_run)
    warning = make_log("row 7 looks malformed", level=30, flow_run=flow_run)
    error = make_log("could not load rows", level=40, flow_run=flow_run)
    html = admin_client.get(f"/flow-runs/{flow_run.id}/", {"level": "WARNING", "q": "rows"}).content.decode()
    assert f'id="log-{error.id}"' in html
    assert f'id="log-{warning.id}"' not in html and f'id="log-{info.id}"' not in html
    assert 'id="logs"' in html


def test_bad_log_level_is_an_inline_message(admin_client, flow_run):
    response = admin_client.get(f"/flow-runs/{flow_run.id}/", {"level": "LOUD"})
    assert response.status_code == 200
    assert "Level: unknown level" in response.content.decode()


def test_htmx_requests_get_the_fragment_they_target(htmx_get, flow_run):
    make_task_run(flow_run)
    gantt = htmx_get(f"/flow-runs/{flow_run.id}/", "gantt").content.decode()
    assert gantt.startswith('<div id="gantt"') and "<header" not in gantt
    logs = htmx_get(f"/flow-runs/{flow_run.id}/", "logs-panel", level="ERROR").content.decode()
    assert logs.startswith('<div id="logs-panel"') and 'id="logs"' in logs


def test_retry_button_is_disabled_with_the_reason_as_title(admin_client, admin_user, flow_run):
    from orchestrator import retries

    html = admin_client.get(f"/flow-runs/{flow_run.id}/").content.decode()
    reason = retries.refusal_reason(flow_run, admin_user)
    assert reason
    assert f'disabled title="{escape(reason)}">Retry</button>' in html


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_render_as_text(admin_client, hostile):
    run = make_flow_run(flow=hostile[:255], name=hostile[:255], parameters={hostile: hostile}, tags=[hostile[:255]])
    make_task_run(run, name=hostile[:255])
    make_log(hostile, level=40, flow_run=run)
    html = admin_client.get(f"/flow-runs/{run.id}/").content.decode()
    assert_escaped(html, hostile)
    assert escape(hostile) in html


def test_gantt_can_show_only_the_failed_task_runs(admin_client, flow_run):
    make_task_run(flow_run, name="fine", start_time=at(1), end_time=at(2))
    failed = make_task_run(flow_run, name="broken", start_time=at(2), end_time=at(3), state=("FAILED", "TimedOut"))
    crashed = make_task_run(flow_run, name="gone", start_time=at(3), end_time=at(4), state=("CRASHED", "Crashed"))
    html = admin_client.get(f"/flow-runs/{flow_run.id}/", {"gantt": "failed"}).content.decode()
    assert re.findall(r'id="task-run-([0-9a-f-]{36})" class="gantt-row"', html) == [str(failed.id), str(crashed.id)]
    assert "1–2 of 2" in html


def test_summary_links_to_its_task_runs_and_its_failed_ones(admin_client, flow_run):
    make_task_run(flow_run, state=("FAILED", "Failed"))
    html = admin_client.get(f"/flow-runs/{flow_run.id}/").content.decode()
    assert f'href="/task-runs/?flow_run={flow_run.id}&amp;state=FAILED,CRASHED">1 failed</a>' in html
