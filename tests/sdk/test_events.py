"""Every run, state change and log record becomes an event per docs/events.md."""
from __future__ import annotations

import gc
import json
import uuid
from datetime import datetime

import pytest

from sdk import flow, get_run_logger, task
from sdk.engine.runs import TaskRun
from sdk.states import Completed, Pending, Running, StateType

STATE_TYPES = {t.value for t in StateType}

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
    assert list(event["upstream_task_run_ids"]) == [upstream]
    assert event["parameters"] == {"a": {"__upstream__": upstream}, "b": 2}


def test_flow_run_created_event_has_the_documented_fields(sink):
    run_sample_flow()
    (event,) = created(sink, "flow_run", "sample")
    assert {"flow_run_id", "flow_name", "name", "parameters", "tags", "parent_task_run_id",
            "parent_flow_run_id", "version"} <= set(event)
    assert event["parameters"] == {"x": 1}


def test_state_events_carry_the_state_flat_and_run_count(sink):
    run_sample_flow()
    for event in sink.of_type("task_run.state") + sink.of_type("flow_run.state"):
        assert "state" not in event
        assert event["state_type"] in STATE_TYPES and isinstance(event["state_name"], str)
        assert event.get("state_message") is None or isinstance(event["state_message"], str)
        assert isinstance(event["run_count"], int)
    assert all("flow_run_id" in e for e in sink.of_type("task_run.state"))


def test_created_events_carry_the_initial_pending_state(sink):
    run_sample_flow()
    for event in sink.of_type("task_run.created") + sink.of_type("flow_run.created"):
        assert (event["state_type"], event["state_name"], event["state_message"]) == ("PENDING", "Pending", None)


def test_a_trivial_task_run_is_three_events(sink):
    task(lambda: 1, name="one")()
    (run,) = created(sink, "task_run", "one")
    assert [(e["type"], e["seq"], e["state_name"]) for e in run_events(sink, run["task_run_id"])] == [
        ("task_run.created", 0, "Pending"), ("task_run.state", 1, "Running"), ("task_run.state", 2, "Completed")]


def test_state_events_of_a_trivial_task_are_not_tracked_by_the_gc(sink):
    task(lambda: 42, name="answer")()
    (run,) = created(sink, "task_run", "answer")
    states = [e for e in run_events(sink, run["task_run_id"]) if e["type"] == "task_run.state"]
    assert [(e["state_name"], e.get("result"), gc.is_tracked(e)) for e in states] == [
        ("Running", None, False), ("Completed", 42, False)]


def test_created_event_of_a_trivial_task_holds_no_value_tracked_by_the_gc_and_encodes_arrays(sink):
    # (the event itself is tracked: it holds the parameters dict; its lists are tuples, not tracked)
    task(lambda x: x, name="plain")(1)
    (event,) = created(sink, "task_run", "plain")
    assert [field for field, value in event.items() if gc.is_tracked(value)] == []
    decoded = json.loads(json.dumps(event))
    assert (decoded["tags"], decoded["upstream_task_run_ids"]) == ([], [])


@pytest.mark.parametrize("state", [Pending, Running, lambda: Completed(data=42)], ids=["Pending", "Running", "Completed"])
def test_a_state_event_with_atomic_values_is_not_tracked_by_the_gc(sink, state):
    run = TaskRun(name="t-1", task_key="t-key", task_name="t", flow_run_id=str(uuid.uuid4()), parent_task_run_id=None)
    run.set_state(state())
    (event,) = sink.events
    assert gc.is_tracked(event) is False


def test_completed_state_event_carries_a_json_result(sink):
    run_sample_flow()
    completed = [e for e in sink.of_type("task_run.state") if e["state_name"] == "Completed"]
    assert sorted(e["result"] for e in completed) == [2, 4]


def test_unserialisable_result_is_left_out(sink):
    task(lambda: object(), name="obj")()
    (event,) = [e for e in sink.of_type("task_run.state") if e["state_name"] == "Completed"]
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


def test_state_events_of_a_trivial_task_stay_within_ten_keys(sink):
    # Ten keys fit CPython's 16-slot dict table; an eleventh doubles each queued event's size.
    @task
    def add_one(x: int) -> int:
        return x + 1

    @flow
    def trivial() -> int:
        return add_one(1)

    trivial()
    states = sink.of_type("task_run.state")
    assert [e["state_name"] for e in states] == ["Running", "Completed"]
    assert all(len(e) <= 10 for e in states), [sorted(e) for e in states]
    assert "state_message" not in states[-1] and states[-1]["result"] == 2


def test_a_state_with_a_message_carries_it(sink):
    @task
    def boom() -> None:
        raise ValueError("no way")

    @flow
    def failing() -> None:
        boom(return_state=True)

    failing()
    failed = [e for e in sink.of_type("task_run.state") if e["state_type"] == "FAILED"]
    assert len(failed) == 1 and "no way" in failed[0]["state_message"]
