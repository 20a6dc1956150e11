"""States, their timelines with run_count, and the named-state constructors."""
from __future__ import annotations

from datetime import datetime

import pytest

from sdk import flow, task
from sdk import states as S
from sdk.exceptions import UnfinishedRun
from sdk.states import State, StateType

from .conftest import created, run_events, state_names


@pytest.mark.parametrize("name,type_", [
    ("Scheduled", "SCHEDULED"), ("Late", "SCHEDULED"), ("AwaitingRetry", "SCHEDULED"), ("Pending", "PENDING"),
    ("NotReady", "PENDING"), ("Running", "RUNNING"), ("Retrying", "RUNNING"), ("Completed", "COMPLETED"),
    ("Cached", "COMPLETED"), ("Failed", "FAILED"), ("TimedOut", "FAILED"), ("Crashed", "CRASHED"),
    ("Cancelled", "CANCELLED"), ("Cancelling", "CANCELLING"), ("Paused", "PAUSED"),
])
def test_named_state_constructors_have_prefect_names_and_types(name, type_):
    state = getattr(S, name)(message="m", data=1)
    assert (state.name, state.type, state.message, state.data) == (name, StateType[type_], "m", 1)


def test_state_exposes_type_name_message_timestamp():
    state = S.Failed("it broke")
    assert (state.type, state.name, state.message) == (StateType.FAILED, "Failed", "it broke")
    assert isinstance(state.timestamp, datetime) and state.timestamp.tzinfo is not None


def test_state_predicates():
    assert S.Completed().is_completed() and S.Cached().is_completed()
    assert S.TimedOut().is_failed() and S.Crashed().is_crashed() and S.Cancelled().is_cancelled()
    assert S.Pending().is_pending() and S.Running().is_running() and S.Scheduled().is_scheduled()
    assert S.Paused().is_paused() and S.Cancelling().is_cancelling()
    assert S.Completed().is_final() and not S.Running().is_final()


def test_state_result_of_a_failed_state_raises_its_exception():
    with pytest.raises(KeyError):
        S.Failed(data=KeyError("x")).result()
    assert isinstance(S.Failed(data=KeyError("x")).result(raise_on_failure=False), KeyError)


def test_state_result_of_an_unfinished_state_raises():
    with pytest.raises(UnfinishedRun):
        S.Running().result()


def test_state_repr_looks_like_prefect():
    assert str(S.Completed()) == "Completed()"
    assert str(S.Failed("x")) == "Failed('x')"
    assert str(S.Cached()) == "Cached(type=COMPLETED)"


def test_state_built_from_a_type_string():
    assert State("COMPLETED").name == "Completed"


def test_successful_task_timeline_is_pending_running_completed(sink):
    task(lambda: 1, name="ok")()
    (run,) = created(sink, "task_run", "ok")
    assert state_names(sink, run["task_run_id"]) == ["Pending", "Running", "Completed"]


def test_failed_task_timeline_ends_failed_with_the_error(sink):
    def bad():
        raise ValueError("x")

    task(bad)(return_state=True)
    (run,) = created(sink, "task_run", "bad")
    events = run_events(sink, run["task_run_id"])
    assert state_names(sink, run["task_run_id"]) == ["Pending", "Running", "Failed"]
    assert events[-1]["error"]["type"] == "ValueError" and "Traceback" in events[-1]["error"]["traceback"]


def test_run_count_is_zero_before_running_and_counts_attempts(sink):
    task(lambda: 1, name="ok")()
    (run,) = created(sink, "task_run", "ok")
    # the created event carries Pending and no run_count (the server reads 0)
    counts = [e.get("run_count", 0) for e in run_events(sink, run["task_run_id"]) if "state_type" in e]
    assert counts == [0, 1, 1]


def test_flow_timeline_is_pending_running_completed(sink):
    flow(lambda: None, name="fl")()
    (run,) = created(sink, "flow_run", "fl")
    assert state_names(sink, run["flow_run_id"]) == ["Pending", "Running", "Completed"]


def test_task_returning_a_state_takes_that_state():
    state = task(lambda: S.Failed("chose to fail"), name="chooser")(return_state=True)
    assert state.is_failed() and state.message == "chose to fail"


def test_exception_whose_str_raises_still_fails_the_run_cleanly(sink):
    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("no str for you")

    def bad():
        raise Weird()

    state = task(bad)(return_state=True)
    assert state.is_failed() and "Weird" in state.message
    (run,) = created(sink, "task_run", "bad")
    assert run_events(sink, run["task_run_id"])[-1]["error"]["type"] == "Weird"
