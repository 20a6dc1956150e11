"""Run records (TaskRun, FlowRun) and the events they emit (docs/events.md).

A run record is created once per run, emits its `*.created` event (which
carries the run's initial state), and then one `*.state` event per later state
it enters, each with the run's next `seq`. States travel flat (`state_type`,
`state_name`, `state_message`; the state's timestamp is the event's
`occurred`) so that a state event without `error` holds only atomic values and
the garbage collector does not track it while it waits to be shipped. For the
same reason the lists of a created event (`tags`, `upstream_task_run_ids`) are
tuples (JSON arrays once encoded): an empty tuple, or one a collection has
looked at, is not tracked, so a trivial task's created event is the one object
of its run the collector traverses (its `parameters` dict keeps it tracked).
"""
from __future__ import annotations

import itertools
import os
from types import TracebackType
from typing import Any

from sdk import events
from sdk.rendering import NO_RESULT, PartlyStored, json_result
from sdk.stamps import new_id
from sdk.states import State, StateType

__all__ = ["TaskRun", "FlowRun", "error_info", "describe_error", "format_error", "user_traceback"]

_ERROR_TYPES = (StateType.FAILED, StateType.CRASHED)


_SDK_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_traceback(exc: BaseException) -> TracebackType | None:
    """The exception's traceback without the SDK's own leading frames (engine plumbing)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename.startswith(_SDK_DIR):
        tb = tb.tb_next
    return tb


def describe_error(exc: BaseException) -> str:
    """`ValueError: message`, even for an exception whose __str__ raises."""
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable message>"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def format_error(exc: BaseException) -> str:
    import traceback

    try:
        return "".join(traceback.format_exception(type(exc), exc, user_traceback(exc)))
    except Exception:
        return describe_error(exc)


def error_info(exc: BaseException) -> dict[str, str]:
    message = describe_error(exc).partition(": ")[2]
    return {"type": type(exc).__name__, "message": message, "traceback": format_error(exc)}


class _Run:
    __slots__ = ("id", "name", "run_count", "state", "_seq")
    _state_event: str = ""

    def next_seq(self) -> int:
        return next(self._seq)

    def _decorate(self, event: dict[str, Any], state: State) -> None:
        state_type = state.type
        if state_type is StateType.COMPLETED:
            result = json_result(state.data)
            if result is not NO_RESULT:
                event["result"] = result
        elif state_type in _ERROR_TYPES and isinstance(state.data, BaseException):
            event["error"] = error_info(state.data)


class TaskRun(_Run):
    """One task run. `id`, `name`, `run_count` (attempts so far), `flow_run_id`,
    `task_key`, `task_name`, `tags`, `parent_task_run_id`, `upstream_task_run_ids`, `state`."""

    __slots__ = ("flow_run_id", "task_key", "task_name", "tags", "parent_task_run_id", "upstream_task_run_ids")

    def __init__(self, name: str, task_key: str, task_name: str, flow_run_id: str | None,
                 parent_task_run_id: str | None, tags: tuple[str, ...], upstream_task_run_ids: tuple[str, ...]) -> None:
        self.id = new_id()
        self.name = name
        self.run_count = 0
        self.state: State | None = None
        self._seq = itertools.count()
        self.flow_run_id = flow_run_id
        self.task_key = task_key
        self.task_name = task_name
        self.tags = tags
        self.parent_task_run_id = parent_task_run_id
        self.upstream_task_run_ids = upstream_task_run_ids

    def emit_created(self, rendered_parameters: dict[str, Any], initial: State) -> None:
        """Report the run, entering its initial state (Pending) in the same event."""
        self.state = initial
        initial.task_run_id = self.id
        initial.flow_run_id = self.flow_run_id
        event = {
            "id": new_id(),
            "type": "task_run.created",
            "occurred": initial.occurred,
            "seq": next(self._seq),
            "task_run_id": self.id,
            "flow_run_id": self.flow_run_id,
            "task_key": self.task_key,
            "task_name": self.task_name,
            "name": self.name,
            "parameters": rendered_parameters,
            "tags": tuple(self.tags),
            "parent_task_run_id": self.parent_task_run_id,
            "upstream_task_run_ids": tuple(self.upstream_task_run_ids),
            "state_type": initial.type._value_,
            "state_name": initial.name,
            "state_message": initial.message,
        }
        if rendered_parameters.__class__ is PartlyStored:  # such a run can't be re-run by a worker
            event["unstored_parameters"] = rendered_parameters.unstored
        events.emit(event)

    def set_state(self, state: State) -> State:
        state.task_run_id = self.id
        state.flow_run_id = self.flow_run_id
        self.state = state
        event = {
            "id": new_id(),
            "type": "task_run.state",
            "occurred": state.occurred,
            "seq": next(self._seq),
            "task_run_id": self.id,
            "flow_run_id": self.flow_run_id,
            "run_count": self.run_count,
            "state_type": state.type._value_,
            "state_name": state.name,
        }
        if state.message is not None:  # omitted when absent: 10 keys keep CPython's smaller dict table
            event["state_message"] = state.message
        if state.type is StateType.COMPLETED or state.data is not None:
            self._decorate(event, state)
        events.emit(event)
        return state

    @property
    def label(self) -> str:
        return f"Task run {self.name!r}"

    def __repr__(self) -> str:
        return f"TaskRun(id={self.id!r}, name={self.name!r}, run_count={self.run_count}, state={self.state})"


class FlowRun(_Run):
    """One flow run. `id`, `name`, `run_count`, `flow_name`, `parameters`, `tags`,
    `parent_flow_run_id`, `parent_task_run_id`, `state`."""

    __slots__ = ("flow_name", "parameters", "tags", "parent_flow_run_id", "parent_task_run_id", "version")

    def __init__(self, name: str, flow_name: str, parameters: dict[str, Any], tags: tuple[str, ...],
                 parent_flow_run_id: str | None, parent_task_run_id: str | None, version: str | None) -> None:
        self.id = new_id()
        self.name = name
        self.run_count = 0
        self.state: State | None = None
        self._seq = itertools.count()
        self.flow_name = flow_name
        self.parameters = parameters
        self.tags = tags
        self.parent_flow_run_id = parent_flow_run_id
        self.parent_task_run_id = parent_task_run_id
        self.version = version

    def emit_created(self, rendered_parameters: dict[str, Any], initial: State) -> None:
        """Report the run, entering its initial state (Pending) in the same event."""
        self.state = initial
        initial.flow_run_id = self.id
        event = {
            "id": new_id(),
            "type": "flow_run.created",
            "occurred": initial.occurred,
            "seq": next(self._seq),
            "flow_run_id": self.id,
            "flow_name": self.flow_name,
            "name": self.name,
            "parameters": rendered_parameters,
            "tags": tuple(self.tags),
            "parent_task_run_id": self.parent_task_run_id,
            "parent_flow_run_id": self.parent_flow_run_id,
            "version": self.version,
            "state_type": initial.type._value_,
            "state_name": initial.name,
            "state_message": initial.message,
        }
        if rendered_parameters.__class__ is PartlyStored:  # such a run can't be re-run by a worker
            event["unstored_parameters"] = rendered_parameters.unstored
        events.emit(event)

    def set_state(self, state: State) -> State:
        state.flow_run_id = self.id
        self.state = state
        event = {
            "id": new_id(),
            "type": "flow_run.state",
            "occurred": state.occurred,
            "seq": next(self._seq),
            "flow_run_id": self.id,
            "run_count": self.run_count,
            "state_type": state.type._value_,
            "state_name": state.name,
        }
        if state.message is not None:  # omitted when absent: 10 keys keep CPython's smaller dict table
            event["state_message"] = state.message
        self._decorate(event, state)
        events.emit(event)
        return state

    @property
    def label(self) -> str:
        return f"Flow run {self.name!r}"

    def __repr__(self) -> str:
        return f"FlowRun(id={self.id!r}, name={self.name!r}, run_count={self.run_count}, state={self.state})"
