"""Every run, state change and log record becomes an event per docs/events.md."""
from __future__ import annotations

import uuid
from datetime import datetime

from sdk import flow, get_run_logger, task

from .conftest import created, run_events

COMMON = {"id", "type", "occurred", "seq"}


@task
def add(a, b):
    return a + b


def run_sample_flow():
    @flow
    def sample(x):
        get_run_logger().info("start")
        first = add.submit(x, 1)
        return add(first, 2)

    return sample(1)


def test_every_event_has_id_type_occurred_and_seq(sink):
    run_sample_flow()
    assert sink.events
    for event in sink.events:
        assert COMMON <= set(event)
        uuid.UUID(event["id"])
        assert datetime.fromisoformat(event["occurred"]).tzinfo is not None
        assert isinstance(event["seq"], int) and event["seq"] >= 0


def test_event_ids_are_unique(sink):
    run_sample_flow()
    ids = [e["id"] for e in sink.events]
    assert len(ids) == len(set(ids))


def test_seq_starts_at_zero_with_created_and_grows_per_run(sink):
    run_sample_flow()
    run_ids = [e["task_run_id"] for e in created(sink, "task_run")] + [e["flow_run_id"] for e in created(sink, "flow_run")]
    for run_id in run_ids:
        events = run_events(sink, run_id)
        seqs = [e["seq"] for e in events]
        assert events[0]["type"].endswith(".created") and seqs[0] == 0
        assert seqs == sorted(set(seqs))


def test_task_run_created_event_has_the_documented_fields(sink):
    run_sample_flow()
    event = created(sink, "task_run", "add")[1]
    assert {"task_run_id", "flow_run_id", "task_key", "task_name", "name", "parameters", "tags",
            "parent_task_run_id", "upstream_task_run_ids"} <= set(event)
    upstream = created(sink, "task_run", "add")[0]["task_run_id"]
    assert event["upstream_task_run_ids"] == [upstream]
    assert event["parameters"] == {"a": {"__upstream__": upstream}, "b": 2}


def test_flow_run_created_event_has_the_documented_fields(sink):
    run_sample_flow()
    (event,) = created(sink, "flow_run", "sample")
    assert {"flow_run_id", "flow_name", "name", "parameters", "tags", "parent_task_run_id",
            "parent_flow_run_id", "version"} <= set(event)
    assert event["parameters"] == {"x": 1}


def test_state_events_carry_state_object_and_run_count(sink):
    run_sample_flow()
    for event in sink.of_type("task_run.state") + sink.of_type("flow_run.state"):
        state = event["state"]
        assert set(state) == {"type", "name", "message", "timestamp"}
        assert state["timestamp"] == event["occurred"]
        assert isinstance(event["run_count"], int)
    assert all("flow_run_id" in e for e in sink.of_type("task_run.state"))


def test_completed_state_event_carries_a_json_result(sink):
    run_sample_flow()
    completed = [e for e in sink.of_type("task_run.state") if e["state"]["name"] == "Completed"]
    assert sorted(e["result"] for e in completed) == [2, 4]


def test_unserialisable_result_is_left_out(sink):
    task(lambda: object(), name="obj")()
    (event,) = [e for e in sink.of_type("task_run.state") if e["state"]["name"] == "Completed"]
    assert "result" not in event


def test_log_event_fields(sink):
    run_sample_flow()
    (event,) = [e for e in sink.of_type("log") if e["message"] == "start"]
    assert {"flow_run_id", "task_run_id", "level", "logger", "message"} <= set(event)


def test_parameters_render_json_safe(sink):
    @task
    def take(a, b, c, d, e):
        return None

    take({"k": (1, 2)}, {1, 2}.__class__([3]), float("nan"), object(), "x" * 20_000)
    params = created(sink, "task_run", "take")[0]["parameters"]
    assert params["a"] == {"k": [1, 2]} and params["b"] == [3] and params["c"] == "nan"
    assert params["d"].startswith("<object object")
    assert len(params["e"]) == 10_001 and params["e"].endswith("…")
