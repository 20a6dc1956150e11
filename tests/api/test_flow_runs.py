"""GET /api/flow-runs/ and GET /api/flow-runs/{id}/."""
from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.factories import T0, ids, make_flow_run, make_task_run, results


def test_lists_flow_runs_newest_first(api):
    old, new = make_flow_run(), make_flow_run()
    assert ids(api.get("/api/flow-runs/")) == [str(new.id), str(old.id)]


def test_list_is_cursor_paginated(api):
    runs = [make_flow_run() for _ in range(3)]
    first = api.get("/api/flow-runs/?page_size=2").json()
    second = api.get(first["next"]).json()
    assert set(first) == {"next", "previous", "results"}
    assert [r["id"] for r in first["results"] + second["results"]] == [str(r.id) for r in reversed(runs)]
    assert second["next"] is None


def test_flow_run_has_the_spec_shape(api):
    run = make_flow_run(
        name="brave-otter", parameters={"n": 3}, tags=["nightly"], run_count=1,
        start_time=T0, end_time=T0 + timedelta(seconds=90),
    )
    item = api.get(f"/api/flow-runs/{run.id}/").json()
    assert item["id"] == str(run.id)
    assert item["name"] == "brave-otter"
    assert item["flow_name"] == "etl"
    assert set(item["state"]) == {"type", "name", "message", "timestamp"}
    assert item["state"]["type"] == "COMPLETED"
    assert item["parameters"] == {"n": 3}
    assert item["tags"] == ["nightly"]
    assert item["run_count"] == 1
    assert item["start_time"] == "2026-11-26T10:00:00Z"
    assert item["end_time"] == "2026-11-26T10:01:30Z"
    assert item["duration"] == 90.0
    assert item["parent_task_run_id"] is None
    assert "task_run_counts" in item


def test_state_is_null_before_any_state_arrived(api):
    run = make_flow_run(state=None)
    assert api.get(f"/api/flow-runs/{run.id}/").json()["state"] is None


def test_flow_name_is_null_before_the_created_event_arrived(api):
    run = make_flow_run(flow=None)
    assert api.get(f"/api/flow-runs/{run.id}/").json()["flow_name"] is None


def test_task_run_counts_by_state_type(api):
    run = make_flow_run()
    make_task_run(run, state=("COMPLETED", "Completed"))
    make_task_run(run, state=("COMPLETED", "Cached"))
    make_task_run(run, state=("FAILED", "TimedOut"))
    counts = api.get(f"/api/flow-runs/{run.id}/").json()["task_run_counts"]
    assert counts["COMPLETED"] == 2
    assert counts["FAILED"] == 1
    assert counts["RUNNING"] == 0


def test_task_run_counts_in_the_list(api):
    run = make_flow_run()
    make_task_run(run, state=("FAILED", "Failed"))
    assert results(api.get("/api/flow-runs/"))[0]["task_run_counts"]["FAILED"] == 1


def test_list_query_count_does_not_grow_with_the_page(api):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/flow-runs/").status_code == 200
        return len(captured)

    run = make_flow_run()
    make_task_run(run)
    queries()  # the key's first use also records last_used
    few = queries()
    for _ in range(5):
        make_task_run(make_flow_run(flow="other"))
    assert queries() == few


def test_filter_by_state_type(api):
    failed = make_flow_run(state=("FAILED", "Failed"))
    make_flow_run(state=("COMPLETED", "Completed"))
    assert ids(api.get("/api/flow-runs/?state=FAILED")) == [str(failed.id)]


def test_state_type_is_case_insensitive(api):
    failed = make_flow_run(state=("FAILED", "TimedOut"))
    assert ids(api.get("/api/flow-runs/?state=failed")) == [str(failed.id)]


def test_filter_by_state_name(api):
    timed_out = make_flow_run(state=("FAILED", "TimedOut"))
    make_flow_run(state=("FAILED", "Failed"))
    assert ids(api.get("/api/flow-runs/?state=TimedOut")) == [str(timed_out.id)]


def test_filter_by_comma_list_of_states(api):
    failed = make_flow_run(state=("FAILED", "Failed"))
    crashed = make_flow_run(state=("CRASHED", "Crashed"))
    make_flow_run(state=("COMPLETED", "Completed"))
    assert ids(api.get("/api/flow-runs/?state=FAILED,CRASHED")) == [str(crashed.id), str(failed.id)]


def test_unknown_state_is_400_listing_valid_states(api):
    response = api.get("/api/flow-runs/?state=EXPLODED")
    assert response.status_code == 400
    error = response.json()["error"]
    assert "state" in error and "EXPLODED" in error and "COMPLETED" in error and "TimedOut" in error


def test_filter_by_flow_name(api):
    etl = make_flow_run(flow="etl")
    make_flow_run(flow="report")
    assert ids(api.get("/api/flow-runs/?flow=etl")) == [str(etl.id)]


def test_filter_by_tag(api):
    nightly = make_flow_run(tags=["nightly", "prod"])
    make_flow_run(tags=["prod"])
    assert ids(api.get("/api/flow-runs/?tag=nightly")) == [str(nightly.id)]


def test_filter_started_after_and_before(api):
    make_flow_run(start_time=T0)
    middle = make_flow_run(start_time=T0 + timedelta(hours=1))
    make_flow_run(start_time=T0 + timedelta(hours=2))
    response = api.get(
        "/api/flow-runs/", {"started_after": "2026-11-26T10:30:00+00:00", "started_before": "2026-11-26T11:30:00Z"}
    )
    assert ids(response) == [str(middle.id)]


def test_started_after_without_timezone_is_read_as_utc(api):
    make_flow_run(start_time=T0)
    late = make_flow_run(start_time=T0 + timedelta(hours=1))
    assert ids(api.get("/api/flow-runs/?started_after=2026-11-26T10:30:00")) == [str(late.id)]


def test_bad_date_is_400_naming_the_filter(api):
    response = api.get("/api/flow-runs/?started_after=yesterday")
    assert response.status_code == 400
    assert "started_after" in response.json()["error"]


@pytest.mark.parametrize("date", ["9999-12-31T23:30:00Z", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
@pytest.mark.parametrize("name", ["started_after", "started_before"])
def test_date_at_the_edge_of_the_calendar_is_400(api, name, date):
    response = api.get("/api/flow-runs/", {name: date})
    assert response.status_code == 400
    assert "out of range" in response.json()["error"]


def test_unknown_id_is_404(api):
    response = api.get(f"/api/flow-runs/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert "no flow run" in response.json()["error"]


def test_malformed_id_is_a_json_404(api):
    response = api.get("/api/flow-runs/not-a-uuid/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_bad_cursor_is_a_json_404(api):
    response = api.get("/api/flow-runs/?cursor=%%%garbage")
    assert response.status_code == 404
    assert response.json() == {"error": "Invalid cursor"}


@pytest.mark.parametrize("position", [b"not-a-date", b"0001-01-01T00:00:00%2B05:00", b"2026-02-30T00:00:00Z"])
def test_forged_cursor_position_is_an_invalid_cursor(api, position):
    cursor = base64.b64encode(b"p=" + position).decode()
    response = api.get(f"/api/flow-runs/?cursor={cursor}")
    assert response.status_code == 404
    assert response.json() == {"error": "Invalid cursor"}


def test_hostile_strings_come_back_verbatim_as_json(api):
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    run = make_flow_run(name=hostile, parameters={"x": hostile}, state_message=hostile)
    response = api.get(f"/api/flow-runs/{run.id}/")
    assert response["Content-Type"] == "application/json"
    item = response.json()
    assert (item["name"], item["parameters"]["x"], item["state"]["message"]) == (hostile, hostile, hostile)


def test_huge_filter_value_is_400_not_500(api):
    response = api.get("/api/flow-runs/", {"flow": "x" * 100_000})
    assert response.status_code == 400
    assert "flow" in response.json()["error"]


def test_nul_character_in_a_filter_is_400(api):
    assert api.get("/api/flow-runs/", {"flow": "a\x00b"}).status_code == 400


def test_too_many_query_parameters_is_a_json_400(api):
    response = api.get("/api/flow-runs/?" + "&".join(f"p{i}=1" for i in range(2000)))
    assert response.status_code == 400
    assert "error" in response.json()


def test_unknown_flow_name_matches_nothing(api):
    make_flow_run(flow="etl")
    assert ids(api.get("/api/flow-runs/?flow=nope")) == []
