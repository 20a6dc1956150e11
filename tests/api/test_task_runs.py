"""GET /api/task-runs/ and GET /api/task-runs/{id}/."""
from __future__ import annotations

import uuid
from datetime import timedelta

from tests.api.factories import T0, ids, make_flow_run, make_task_run, results


def test_lists_task_runs_across_flow_runs_newest_first(api):
    old = make_task_run(make_flow_run())
    new = make_task_run(make_flow_run())
    assert ids(api.get("/api/task-runs/")) == [str(new.id), str(old.id)]


def test_task_run_has_the_spec_shape(api):
    flow_run = make_flow_run(flow="etl")
    upstream = make_task_run(flow_run)
    parent = uuid.uuid4()
    run = make_task_run(
        flow_run, task_name="load", task_key="load-1a2b", name="load-7c1", parameters={"rows": [1, 2]},
        tags=["db"], run_count=2, start_time=T0, end_time=T0 + timedelta(seconds=2),
        upstream_task_run_ids=[str(upstream.id)], parent_task_run_id=parent,
    )
    item = api.get(f"/api/task-runs/{run.id}/").json()
    assert item["id"] == str(run.id)
    assert (item["name"], item["task_name"], item["task_key"]) == ("load-7c1", "load", "load-1a2b")
    assert item["flow_run_id"] == str(flow_run.id)
    assert item["flow_name"] == "etl"
    assert item["state"]["type"] == "COMPLETED"
    assert item["parameters"] == {"rows": [1, 2]}
    assert item["tags"] == ["db"]
    assert item["run_count"] == 2
    assert (item["start_time"], item["end_time"], item["duration"]) == ("2026-11-26T10:00:00Z", "2026-11-26T10:00:02Z", 2.0)
    assert item["upstream_task_run_ids"] == [str(upstream.id)]
    assert item["parent_task_run_id"] == str(parent)


def test_task_run_outside_any_flow_has_null_flow_run(api):
    run = make_task_run(None)
    item = api.get(f"/api/task-runs/{run.id}/").json()
    assert (item["flow_run_id"], item["flow_name"]) == (None, None)


def test_task_run_whose_flow_run_has_not_arrived_is_listed(api):
    run = make_task_run(None, flow_run_id=uuid.uuid4())
    item = results(api.get("/api/task-runs/"))[0]
    assert (item["id"], item["flow_name"]) == (str(run.id), None)


def test_filter_failed_across_flow_runs(api):
    failed_a = make_task_run(make_flow_run(), state=("FAILED", "Failed"))
    make_task_run(make_flow_run(), state=("COMPLETED", "Completed"))
    failed_b = make_task_run(make_flow_run(), state=("FAILED", "TimedOut"))
    assert ids(api.get("/api/task-runs/?state=FAILED")) == [str(failed_b.id), str(failed_a.id)]


def test_filter_by_state_name(api):
    cached = make_task_run(state=("COMPLETED", "Cached"))
    make_task_run(state=("COMPLETED", "Completed"))
    assert ids(api.get("/api/task-runs/?state=cached")) == [str(cached.id)]


def test_unknown_state_is_400(api):
    response = api.get("/api/task-runs/?state=FAILED,nope")
    assert response.status_code == 400
    assert "'nope'" in response.json()["error"]


def test_filter_by_flow_run(api):
    flow_run = make_flow_run()
    mine = make_task_run(flow_run)
    make_task_run(make_flow_run())
    assert ids(api.get(f"/api/task-runs/?flow_run={flow_run.id}")) == [str(mine.id)]


def test_malformed_flow_run_filter_is_400_naming_it(api):
    response = api.get("/api/task-runs/?flow_run=42")
    assert response.status_code == 400
    assert "flow_run" in response.json()["error"]


def test_filter_by_flow_name(api):
    mine = make_task_run(make_flow_run(flow="etl"))
    make_task_run(make_flow_run(flow="report"))
    assert ids(api.get("/api/task-runs/?flow=etl")) == [str(mine.id)]


def test_filter_by_task_key(api):
    mine = make_task_run(task_key="load-1a2b")
    make_task_run(task_key="load-ffff")
    assert ids(api.get("/api/task-runs/?task_key=load-1a2b")) == [str(mine.id)]


def test_filter_by_task_name(api):
    mine = make_task_run(task_name="load")
    make_task_run(task_name="extract")
    assert ids(api.get("/api/task-runs/?name=load")) == [str(mine.id)]


def test_filter_by_tag(api):
    mine = make_task_run(tags=["db"])
    make_task_run(tags=["net"])
    assert ids(api.get("/api/task-runs/?tag=db")) == [str(mine.id)]


def test_filter_started_between(api):
    make_task_run(start_time=T0)
    mine = make_task_run(start_time=T0 + timedelta(minutes=5))
    response = api.get("/api/task-runs/", {"started_after": "2026-11-26T10:01:00Z", "started_before": "2026-11-26T10:10:00Z"})
    assert ids(response) == [str(mine.id)]


def test_date_with_other_timezone_is_converted(api):
    mine = make_task_run(start_time=T0 + timedelta(hours=1))
    assert ids(api.get("/api/task-runs/", {"started_after": "2026-11-26T11:30:00+01:00"})) == [str(mine.id)]


def test_bad_date_is_400(api):
    response = api.get("/api/task-runs/?started_before=2026-13-45")
    assert response.status_code == 400
    assert "started_before" in response.json()["error"]


def test_malformed_id_is_a_json_404(api):
    response = api.get("/api/task-runs/%3Cscript%3E/")
    assert response.status_code == 404
    assert response.json()["error"].startswith("no task run")


def test_unknown_id_is_404(api):
    assert api.get(f"/api/task-runs/{uuid.uuid4()}/").status_code == 404


def test_hostile_strings_come_back_verbatim_as_json(api):
    hostile = '"><img src=x onerror=alert(1)><script>x</script>'
    run = make_task_run(name=hostile, parameters={hostile: hostile})
    response = api.get(f"/api/task-runs/{run.id}/")
    assert response["Content-Type"] == "application/json"
    assert response.json()["name"] == hostile
    assert response.json()["parameters"] == {hostile: hostile}


def test_page_size_is_capped(api):
    for _ in range(3):
        make_task_run()
    assert len(results(api.get("/api/task-runs/?page_size=1"))) == 1
    assert api.get("/api/task-runs/?page_size=100000").status_code == 200


def test_started_before_tolerates_clock_skew_between_creation_and_start(api):
    skewed = make_task_run(start_time=T0, created=T0 + timedelta(minutes=30))
    assert ids(api.get("/api/task-runs/?started_before=2026-11-26T10:00:01Z")) == [str(skewed.id)]


def test_unknown_flow_name_matches_nothing(api):
    make_task_run(make_flow_run(flow="etl"))
    assert ids(api.get("/api/task-runs/?flow=nope")) == []
