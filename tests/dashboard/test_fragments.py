"""dashboard.fragments.render_update: the live HTML a page's websocket gets, from the page's partials."""
from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.http import QueryDict

from dashboard.fragments import Changes, render_update
from tests.api.factories import make_flow_run, make_log, make_task_run, make_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(db):
    return get_user_model().objects.create_superuser("live", "l@example.com", "pw")


def q(text: str = "") -> QueryDict:
    return QueryDict(text)


def oob_ids(html: str) -> list[str]:
    return re.findall(r'id="([^"]+)"[^>]*hx-swap-oob="(?:true|delete)"', html)


def test_nothing_changed_sends_nothing(user):
    assert render_update("/", q(), user, Changes()) == ""


def test_unknown_pages_and_ids_send_nothing(user):
    assert render_update("/admin/", q(), user, None) == ""
    assert render_update(f"/flow-runs/{uuid.uuid4()}/", q(), user, None) == ""
    assert render_update("/task-runs/not-an-id/", q(), user, None) == ""


def test_runs_list_reconnect_refreshes_the_whole_results(user):
    run = make_flow_run()
    html = render_update("/", q(), user, None)
    assert html.startswith('<div id="runs-results" hx-swap-oob="true">')
    assert '<tbody id="runs-body">' in html and f'id="flow-run-{run.id}"' in html


def test_runs_list_new_matching_run_is_a_row_to_prepend(user):
    failed = make_flow_run(state=("FAILED", "Failed"))
    html = render_update("/", q("state=FAILED"), user, Changes(flow_run_ids={str(failed.id)}))
    assert f'<tr id="flow-run-{failed.id}" data-state-type="FAILED" hx-swap-oob="true" data-live-insert="afterbegin:#runs-body">' in html
    assert 'id="activity" hx-swap-oob="true"' in html
    assert html.startswith("<tr "), "a <tr> after another element would be dropped by the browser's parser"


def test_runs_list_run_outside_the_filters_is_removed_not_added(user):
    completed = make_flow_run(state=("COMPLETED", "Completed"))
    html = render_update("/", q("state=FAILED"), user, Changes(flow_run_ids={str(completed.id)}))
    assert f'<tr id="flow-run-{completed.id}" hx-swap-oob="delete"></tr>' in html
    assert 'data-live-insert' not in html


def test_runs_list_on_an_older_page_only_updates_rows(user):
    run = make_flow_run()
    html = render_update("/", q("before=2100-01-01T00:00:00%2B00:00"), user, Changes(flow_run_ids={str(run.id)}))
    assert f'id="flow-run-{run.id}"' in html and "data-live-insert" not in html


def test_flow_run_page_update_swaps_summary_gantt_states_and_logs(user):
    run = make_flow_run()
    task = make_task_run(run, state=("RUNNING", "Running"))
    log = make_log("hello", flow_run=run)
    html = render_update(f"/flow-runs/{run.id}/", q(), user, Changes(flow_run_ids={str(run.id)}, task_run_ids={str(task.id)}, logs=True))
    assert oob_ids(html) == ["flow-run-summary", "gantt", "flow-run-states", "logs-panel"]
    assert f'id="task-run-{task.id}" class="gantt-row" data-state-type="RUNNING"' in html
    assert f'id="log-{log.id}"' in html


def test_flow_run_page_logs_follow_the_pages_level_and_search(user):
    run = make_flow_run()
    quiet = make_log("connecting", level=20, flow_run=run)
    loud = make_log("connection lost", level=40, flow_run=run)
    html = render_update(f"/flow-runs/{run.id}/", q("level=ERROR&q=lost"), user, Changes(flow_run_ids={str(run.id)}, logs=True))
    assert f'id="log-{loud.id}"' in html and f'id="log-{quiet.id}"' not in html


def test_flow_run_page_without_new_logs_leaves_the_log_panel_alone(user):
    run = make_flow_run()
    html = render_update(f"/flow-runs/{run.id}/", q(), user, Changes(flow_run_ids={str(run.id)}))
    assert "logs-panel" not in oob_ids(html)


def test_task_runs_page_rows_follow_the_filters(user):
    failed = make_task_run(make_flow_run(), state=("FAILED", "Failed"))
    done = make_task_run(make_flow_run(), state=("COMPLETED", "Completed"))
    html = render_update("/task-runs/", q("state=FAILED,CRASHED"), user, Changes(task_run_ids={str(failed.id), str(done.id)}))
    assert f'id="task-run-row-{failed.id}" data-state-type="FAILED" hx-swap-oob="true" data-live-insert="afterbegin:#task-runs-body"' in html
    assert f'<tr id="task-run-row-{done.id}" hx-swap-oob="delete"></tr>' in html


def test_task_run_page_update(user):
    task = make_task_run(make_flow_run(), state=("FAILED", "Failed"))
    html = render_update(f"/task-runs/{task.id}/", q(), user, None)
    assert oob_ids(html) == ["task-run-summary", "task-run-error", "task-run-states", "logs-panel"]
    only_logs = render_update(f"/task-runs/{task.id}/", q(), user, Changes(logs=True))
    assert oob_ids(only_logs) == ["logs-panel"]


def test_workers_page_update(user):
    make_worker("host:7")
    html = render_update("/workers/", q(), user, Changes(workers=True))
    assert html.startswith('<tbody id="workers-body" hx-swap-oob="true">') and 'id="worker-host7"' in html


def test_fragments_escape_hostile_strings(user):
    run = make_flow_run(flow="<script>alert(1)</script>", name='"><img src=x onerror=alert(1)>', state=("FAILED", "Failed"))
    make_log("<script>alert(2)</script>", flow_run=run)
    for path in ("/", f"/flow-runs/{run.id}/"):
        html = render_update(path, q(), user, None)
        assert "<script>" not in html and "<img src=x" not in html


def gantt_layout(html: str) -> str:
    return re.search(r'id="gantt" class="gantt" data-gantt-layout="(\w+)"', html)[1]


def test_flow_run_page_sends_changed_rows_alone_when_the_browsers_gantt_has_the_same_layout(user):
    run = make_flow_run(state=("RUNNING", "Running"))
    changed = make_task_run(run, state=("RUNNING", "Running"))
    other = make_task_run(run)
    page = render_update(f"/flow-runs/{run.id}/", q(), user, None)
    layout = gantt_layout(page)
    changed.state_type, changed.state_name = "COMPLETED", "Completed"
    changed.save()
    html = render_update(f"/flow-runs/{run.id}/", q(), user,
                         Changes(flow_run_ids={str(run.id)}, task_run_ids={str(changed.id)}, gantt_layout=layout))
    assert oob_ids(html) == ["flow-run-summary", f"task-run-{changed.id}", "flow-run-states"]
    assert f'id="task-run-{changed.id}" class="gantt-row" hx-swap-oob="true" data-state-type="COMPLETED"' in html
    assert f"task-run-{other.id}" not in html
    # The row is the one a page opened now shows.
    fresh = render_update(f"/flow-runs/{run.id}/", q(), user, None)
    row = re.search(rf'<li id="task-run-{changed.id}".*?</li>', fresh)[0]
    assert row.replace(' hx-swap-oob="true"', "") in html.replace(' hx-swap-oob="true"', "")


def test_flow_run_page_sends_the_whole_gantt_when_its_layout_moved(user):
    run = make_flow_run(state=("RUNNING", "Running"))
    task = make_task_run(run, state=("RUNNING", "Running"))
    layout = gantt_layout(render_update(f"/flow-runs/{run.id}/", q(), user, None))
    newcomer = make_task_run(run)  # one more row on the page
    html = render_update(f"/flow-runs/{run.id}/", q(), user,
                         Changes(flow_run_ids={str(run.id)}, task_run_ids={str(newcomer.id)}, gantt_layout=layout))
    assert "gantt" in oob_ids(html) and gantt_layout(html) != layout
    assert f'id="task-run-{newcomer.id}"' in html and f'id="task-run-{task.id}"' in html
    unknown = render_update(f"/flow-runs/{run.id}/", q(), user,
                            Changes(flow_run_ids={str(run.id)}, task_run_ids={str(task.id)}))
    assert "gantt" in oob_ids(unknown)


def test_a_changed_task_run_on_another_gantt_page_sends_no_row(user, monkeypatch):
    from dashboard import gantt

    monkeypatch.setattr(gantt, "PAGE_SIZE", 1)
    run = make_flow_run(state=("RUNNING", "Running"))
    shown = make_task_run(run, state=("RUNNING", "Running"))
    elsewhere = make_task_run(run, state=("RUNNING", "Running"))  # created later: page 2
    layout = gantt_layout(render_update(f"/flow-runs/{run.id}/", q(), user, None))
    html = render_update(f"/flow-runs/{run.id}/", q(), user,
                         Changes(flow_run_ids={str(run.id)}, task_run_ids={str(elsewhere.id)}, gantt_layout=layout))
    assert oob_ids(html) == ["flow-run-summary", "flow-run-states"]
    assert f"task-run-{shown.id}" not in html and f"task-run-{elsewhere.id}" not in html
