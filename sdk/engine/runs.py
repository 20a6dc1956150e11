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
from typing import Any

from sdk import events
from sdk.engine.errors import error_info
from sdk.engine.rendering import NO_RESULT, json_result
from sdk.engine.stamps import new_id
from sdk.states import State, StateType

__all__ = ["Run", "TaskRun", "FlowRun"]

_ERROR_TYPES = (StateType.FAILED, StateType.CRASHED)
_COMPLETED = StateType.COMPLETED


class Run:
    """What task and flow runs share: identity, attempt count, current state, and the events
    a run emits. A task run's events carry its id and its flow run's; a flow run's, its own."""

    __slots__ = ("id", "name", "run_count", "state", "_seq")
    created_event_type = ""  # set by each kind of run
    state_event_type = ""
    label_prefix = ""
    is_task_run = False

    def __init__(self, name: str) -> None:
        self.id = new_id()
        self.name = name
        self.run_count = 0  # attempts so far
        self.state: State | None = None
        self._seq = itertools.count()

    def next_seq(self) -> int:
        return next(self._seq)

    def _describe(self, created_event: dict[str, Any]) -> None:
        """Add what the created event says about the run besides its ids and initial state."""
        raise NotImplementedError

    def _new_event(self, type_: str, state: State) -> dict[str, Any]:
        """An event of this run about `state`, which is bound to the run."""
        if self.is_task_run:
            flow_run_id = self.flow_run_id  # type: ignore[attr-defined]
            state.task_run_id = self.id
            state.flow_run_id = flow_run_id
            return {"id": new_id(), "type": type_, "occurred": state.occurred, "seq": next(self._seq),
                    "task_run_id": self.id, "flow_run_id": flow_run_id}
        state.flow_run_id = self.id
        return {"id": new_id(), "type": type_, "occurred": state.occurred, "seq": next(self._seq),
                "flow_run_id": self.id}

    def emit_created(self, rendered_parameters: dict[str, Any], initial: State) -> None:
        """Report the run, entering its initial state (Pending) in the same event."""
        self.state = initial
        event = self._new_event(self.created_event_type, initial)
        self._describe(event)
        event["parameters"] = rendered_parameters
        event["state_type"] = initial.type._value_
        event["state_name"] = initial.name
        event["state_message"] = initial.message
        events.emit(event)

    def set_state(self, state: State) -> State:
        """Enter `state` and report it; returns it."""
        self.state = state
        state_type = state.type
        # As _new_event, written out as one literal each: this runs for every state of every run.
        if self.is_task_run:
            flow_run_id = self.flow_run_id  # type: ignore[attr-defined]
            state.task_run_id = self.id
            state.flow_run_id = flow_run_id
            event = {"id": new_id(), "type": self.state_event_type, "occurred": state.occurred,
                     "seq": next(self._seq), "task_run_id": self.id, "flow_run_id": flow_run_id,
                     "run_count": self.run_count, "state_type": state_type._value_, "state_name": state.name}
        else:
            state.flow_run_id = self.id
            event = {"id": new_id(), "type": self.state_event_type, "occurred": state.occurred,
                     "seq": next(self._seq), "flow_run_id": self.id,
                     "run_count": self.run_count, "state_type": state_type._value_, "state_name": state.name}
        if state.message is not None:  # omitted when absent: 10 keys keep CPython's smaller dict table
            event["state_message"] = state.message
        if state_type is _COMPLETED:
            result = json_result(state.data)
            if result is not NO_RESULT:
                event["result"] = result
        elif state_type in _ERROR_TYPES and isinstance(state.data, BaseException):
            event["error"] = error_info(state.data)
        events.emit(event)
        return state

    @property
    def label(self) -> str:
        return f"{self.label_prefix} {self.name!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, name={self.name!r}, run_count={self.run_count}, state={self.state})"


class TaskRun(Run):
    """One task run. `id`, `name`, `run_count` (attempts so far), `flow_run_id`,
    `task_key`, `task_name`, `tags`, `parent_task_run_id`, `upstream_task_run_ids`, `state`."""

    __slots__ = ("flow_run_id", "task_key", "task_name", "tags", "parent_task_run_id", "upstream_task_run_ids")
    created_event_type = "task_run.created"
    state_event_type = "task_run.state"
    label_prefix = "Task run"
    is_task_run = True

    def __init__(self, *, name: str, task_key: str, task_name: str, flow_run_id: str | None,
                 parent_task_run_id: str | None, tags: tuple[str, ...] = (),
                 upstream_task_run_ids: tuple[str, ...] = ()) -> None:
        Run.__init__(self, name)
        self.flow_run_id = flow_run_id
        self.task_key = task_key
        self.task_name = task_name
        self.tags = tags
        self.parent_task_run_id = parent_task_run_id
        self.upstream_task_run_ids = upstream_task_run_ids

    def _describe(self, created_event: dict[str, Any]) -> None:
        created_event["task_key"] = self.task_key
        created_event["task_name"] = self.task_name
        created_event["name"] = self.name
        created_event["tags"] = self.tags  # tuples already (see above)
        created_event["parent_task_run_id"] = self.parent_task_run_id
        created_event["upstream_task_run_ids"] = self.upstream_task_run_ids


class FlowRun(Run):
    """One flow run. `id`, `name`, `run_count`, `flow_name`, `parameters`, `tags`,
    `parent_flow_run_id`, `parent_task_run_id`, `state`."""

    __slots__ = ("flow_name", "parameters", "tags", "parent_flow_run_id", "parent_task_run_id", "version")
    created_event_type = "flow_run.created"
    state_event_type = "flow_run.state"
    label_prefix = "Flow run"

    def __init__(self, *, name: str, flow_name: str, parameters: dict[str, Any], tags: tuple[str, ...] = (),
                 parent_flow_run_id: str | None = None, parent_task_run_id: str | None = None,
                 version: str | None = None) -> None:
        Run.__init__(self, name)
        self.flow_name = flow_name
        self.parameters = parameters
        self.tags = tags
        self.parent_flow_run_id = parent_flow_run_id
        self.parent_task_run_id = parent_task_run_id
        self.version = version

    def _describe(self, created_event: dict[str, Any]) -> None:
        created_event["flow_name"] = self.flow_name
        created_event["name"] = self.name
        created_event["tags"] = self.tags
        created_event["parent_task_run_id"] = self.parent_task_run_id
        created_event["parent_flow_run_id"] = self.parent_flow_run_id
        created_event["version"] = self.version
