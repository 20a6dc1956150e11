"""GET /api/logs/."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.factories import T0, make_flow_run, make_log, make_task_run, results


def messages(response) -> list[str]:
    return [item["message"] for item in results(response)]


def test_logs_oldest_first(api):
    make_log("second", timestamp=T0 + timedelta(seconds=1))
    make_log("first", timestamp=T0)
    assert messages(api.get("/api/logs/")) == ["first", "second"]


def test_log_has_the_spec_shape(api):
    flow_run = make_flow_run()
    task_run = make_task_run(flow_run)
    log = make_log("hi", level=30, flow_run=flow_run, task_run=task_run, logger="sdk.task")
    item = results(api.get("/api/logs/"))[0]
    assert item["id"] == str(log.id)
    assert (item["flow_run_id"], item["task_run_id"]) == (str(flow_run.id), str(task_run.id))
    assert (item["level"], item["level_name"], item["message"], item["logger"]) == (30, "WARNING", "hi", "sdk.task")
    assert item["timestamp"]


def test_filter_by_flow_run(api):
    flow_run = make_flow_run()
    make_log("mine", flow_run=flow_run)
    make_log("other", flow_run=make_flow_run())
    assert messages(api.get(f"/api/logs/?flow_run={flow_run.id}")) == ["mine"]


def test_filter_by_task_run(api):
    task_run = make_task_run()
    make_log("mine", task_run=task_run)
    make_log("other", task_run=make_task_run())
    assert messages(api.get(f"/api/logs/?task_run={task_run.id}")) == ["mine"]


@pytest.mark.parametrize("level", ["WARNING", "warning", "30", "WARN"])
def test_level_is_a_minimum_by_name_or_number(api, level):
    make_log("info", level=20)
    make_log("warning", level=30)
    make_log("error", level=40)
    assert messages(api.get(f"/api/logs/?level={level}")) == ["warning", "error"]


def test_unknown_level_is_400(api):
    response = api.get("/api/logs/?level=LOUD")
    assert response.status_code == 400
    assert "level" in response.json()["error"]


def test_negative_level_is_400(api):
    assert api.get("/api/logs/?level=-5").status_code == 400


def test_huge_level_number_is_400(api):
    assert api.get("/api/logs/?level=" + "9" * 40).status_code == 400


def test_q_finds_text_in_messages_case_insensitively(api):
    make_log("Loaded 10 rows")
    make_log("connection refused")
    assert messages(api.get("/api/logs/?q=ROWS")) == ["Loaded 10 rows"]


def test_q_treats_wildcards_literally(api):
    make_log("100% done")
    make_log("1000 done")
    assert messages(api.get("/api/logs/?q=0%25")) == ["100% done"]


def test_malformed_run_filter_is_400(api):
    response = api.get("/api/logs/?task_run=abc")
    assert response.status_code == 400
    assert "task_run" in response.json()["error"]


def test_hostile_message_comes_back_verbatim_as_json(api):
    hostile = "<script>alert('x')</script>\"><img onerror=alert(1) src=x>"
    make_log(hostile)
    response = api.get("/api/logs/")
    assert response["Content-Type"] == "application/json"
    assert messages(response) == [hostile]
