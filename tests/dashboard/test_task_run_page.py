"""`/task-runs/<id>/`: state timeline, error and traceback, inputs, result, logs, Retry."""
from __future__ import annotations

import uuid

import pytest
from django.utils.html import escape

from tests.api.factories import make_flow_run, make_log, make_state, make_task_run
from tests.dashboard.conftest import HOSTILE, assert_escaped

pytestmark = pytest.mark.django_db
TRACEBACK = 'Traceback (most recent call last):\n  File "etl.py", line 3, in transform\nValueError: bad row'


@pytest.fixture
def failed_task():
    task = make_task_run(make_flow_run(name="brave-otter"), name="transform-7", state=("FAILED", "Failed"),
                         run_count=2, parameters={"row": 7})
    make_state(task, "RUNNING", "Running", run_count=1)
    make_state(task, "FAILED", "Failed", run_count=2, error={"type": "ValueError", "message": "bad row", "traceback": TRACEBACK})
    return task


def test_logged_out_visitor_goes_to_login(client, failed_task):
    response = client.get(f"/task-runs/{failed_task.id}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/task-runs/")


def test_login_sends_the_visitor_back(client, failed_task):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("lin", password="pw-lin-123")
    url = f"/task-runs/{failed_task.id}/"
    response = client.post(f"/login/?next={url}", {"username": "lin", "password": "pw-lin-123", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert client.get(url).status_code == 200


def test_unknown_and_malformed_ids_are_404(admin_client):
    assert admin_client.get(f"/task-runs/{uuid.uuid4()}/").status_code == 404
    assert admin_client.get("/task-runs/12345/").status_code == 404


def test_summary_traceback_inputs_and_retry(admin_client, failed_task):
    html = admin_client.get(f"/task-runs/{failed_task.id}/").content.decode()
    summary = html[html.index('id="task-run-summary"'):]
    assert '<span class="state-badge state-failed" data-state-type="FAILED">Failed</span>' in summary
    assert '<dd class="run-count">2</dd>' in summary
    assert f'<pre id="traceback" class="traceback">{escape(TRACEBACK)}</pre>' in html
    assert "ValueError" in html and "&quot;row&quot;: 7" in html
    assert ">Retry</button>" in html
    assert f'href="/flow-runs/{failed_task.flow_run_id}/"' in html


def test_stored_result_is_shown(admin_client):
    task = make_task_run(make_flow_run())
    make_state(task, "COMPLETED", "Completed", result={"total": 42})
    assert "&quot;total&quot;: 42" in admin_client.get(f"/task-runs/{task.id}/").content.decode()


def test_state_timeline_oldest_first(admin_client, failed_task):
    html = admin_client.get(f"/task-runs/{failed_task.id}/").content.decode()
    timeline = html[html.index('id="task-run-states"'):]
    assert timeline.index(">Running<") < timeline.index(">Failed<")


def test_logs_and_their_filters(admin_client, failed_task):
    kept = make_log("row 7 failed", level=40, task_run=failed_task, flow_run_id=failed_task.flow_run_id)
    dropped = make_log("starting", level=20, task_run=failed_task, flow_run_id=failed_task.flow_run_id)
    html = admin_client.get(f"/task-runs/{failed_task.id}/", {"level": "40"}).content.decode()
    assert f'id="log-{kept.id}"' in html and f'id="log-{dropped.id}"' not in html
    assert admin_client.get(f"/task-runs/{failed_task.id}/", {"level": "999999"}).status_code == 200


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_error_traceback_inputs_and_logs_render_as_text(admin_client, hostile):
    task = make_task_run(make_flow_run(), name=hostile[:255], parameters={"x": hostile}, state=("FAILED", "Failed"))
    make_state(task, "FAILED", "Failed", error={"type": hostile, "message": hostile, "traceback": hostile})
    make_log(hostile, task_run=task)
    html = admin_client.get(f"/task-runs/{task.id}/").content.decode()
    assert_escaped(html, hostile)
    assert f'<pre id="traceback" class="traceback">{escape(hostile)}</pre>' in html
