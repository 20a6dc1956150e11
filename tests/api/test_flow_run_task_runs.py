"""GET /api/flow-runs/{id}/task-runs/: the data of a flow run's timeline."""
from __future__ import annotations

import uuid

from tests.api.factories import T0, ids, make_flow_run, make_task_run, results


def test_lists_its_task_runs_oldest_first(api):
    flow_run = make_flow_run()
    first, second = make_task_run(flow_run), make_task_run(flow_run)
    make_task_run(make_flow_run())
    assert ids(api.get(f"/api/flow-runs/{flow_run.id}/task-runs/")) == [str(first.id), str(second.id)]


def test_items_carry_timeline_data(api):
    flow_run = make_flow_run()
    upstream = make_task_run(flow_run)
    run = make_task_run(flow_run, start_time=T0, upstream_task_run_ids=[str(upstream.id)])
    item = results(api.get(f"/api/flow-runs/{flow_run.id}/task-runs/"))[1]
    assert item["id"] == str(run.id)
    assert item["start_time"] == "2026-11-26T10:00:00Z"
    assert item["end_time"] is None
    assert item["state"]["type"] == "COMPLETED"
    assert item["upstream_task_run_ids"] == [str(upstream.id)]


def test_page_size_parameter_limits_the_page(api):
    flow_run = make_flow_run()
    for _ in range(3):
        make_task_run(flow_run)
    body = api.get(f"/api/flow-runs/{flow_run.id}/task-runs/?page_size=2").json()
    assert len(body["results"]) == 2
    assert body["next"]


def test_ignores_list_filters(api):
    flow_run = make_flow_run(state=("COMPLETED", "Completed"))
    make_task_run(flow_run)
    assert len(results(api.get(f"/api/flow-runs/{flow_run.id}/task-runs/?state=bogus"))) == 1


def test_unknown_flow_run_is_404(api):
    assert api.get(f"/api/flow-runs/{uuid.uuid4()}/task-runs/").status_code == 404


def test_malformed_flow_run_id_is_a_json_404(api):
    response = api.get("/api/flow-runs/123/task-runs/")
    assert response.status_code == 404
    assert "error" in response.json()
