"""Run states (Prefect 3's types and names) and the named-state constructors."""
from __future__ import annotations

import enum
import functools
import time
from datetime import datetime
from typing import Any

from sdk.exceptions import FailedRun, UnfinishedRun
from sdk.engine.stamps import iso_from_epoch, parse_iso

__all__ = [
    "StateType", "State", "Scheduled", "Late", "AwaitingRetry", "Pending", "NotReady",
    "Running", "Retrying", "Completed", "Cached", "Failed", "TimedOut", "Crashed",
    "Cancelled", "Cancelling", "Paused", "worst_state",
]


class StateType(str, enum.Enum):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CRASHED = "CRASHED"
    CANCELLED = "CANCELLED"
    CANCELLING = "CANCELLING"
    PAUSED = "PAUSED"

    def __str__(self) -> str:
        return self.value


FINAL_TYPES = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})


class State:
    """One state of a run: `.type`, `.name`, `.message`, `.timestamp`, and its data.

    `data` is the run's return value on a completed state and the exception on
    a failed, crashed or not-ready one. `task_run_id` / `flow_run_id` say which
    run it belongs to (None for a state made by hand).
    """

    __slots__ = ("type", "name", "message", "data", "occurred", "task_run_id", "flow_run_id")

    def __init__(self, type: StateType, name: str | None = None, message: str | None = None, data: Any = None) -> None:
        self.type = type if type.__class__ is StateType else StateType(type)
        self.name = name or self.type.value.title()
        self.message = message
        self.data = data
        self.occurred = iso_from_epoch(time.time())  # now(), one call fewer: every run enters 3 states
        self.task_run_id: str | None = None
        self.flow_run_id: str | None = None

    @property
    def timestamp(self) -> datetime:
        return parse_iso(self.occurred)

    def is_scheduled(self) -> bool:
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        return self.type is StateType.PENDING

    def is_running(self) -> bool:
        return self.type is StateType.RUNNING

    def is_completed(self) -> bool:
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        return self.type is StateType.FAILED

    def is_crashed(self) -> bool:
        return self.type is StateType.CRASHED

    def is_cancelled(self) -> bool:
        return self.type is StateType.CANCELLED

    def is_cancelling(self) -> bool:
        return self.type is StateType.CANCELLING

    def is_paused(self) -> bool:
        return self.type is StateType.PAUSED

    def is_final(self) -> bool:
        return self.type in FINAL_TYPES

    def result(self, raise_on_failure: bool = True) -> Any:
        """The run's value; on a failed/crashed/cancelled/not-ready state its exception is raised
        (or returned with `raise_on_failure=False`)."""
        if self.type is StateType.COMPLETED:
            return self.data
        error = self.data
        if not isinstance(error, BaseException):
            if not self.is_final():
                raise UnfinishedRun(f"The run is in state {self}; it has no result yet.")
            error = FailedRun(self.message or f"The run ended in state {self.name}.")
        if raise_on_failure:
            raise error
        return error

    def __str__(self) -> str:
        parts = [repr(self.message)] if self.message else []
        if self.name.upper() != self.type.value:
            parts.append(f"type={self.type.value}")
        return f"{self.name}({', '.join(parts)})"

    __repr__ = __str__


def _named(type_: StateType, name: str):
    make = functools.partial(State, type_, name)
    make.__doc__ = f"{name}(message=None, data=None): a `{name}` state (type {type_.value})."
    return make


Scheduled = _named(StateType.SCHEDULED, "Scheduled")
Late = _named(StateType.SCHEDULED, "Late")
AwaitingRetry = _named(StateType.SCHEDULED, "AwaitingRetry")
Pending = _named(StateType.PENDING, "Pending")
NotReady = _named(StateType.PENDING, "NotReady")
Running = _named(StateType.RUNNING, "Running")
Retrying = _named(StateType.RUNNING, "Retrying")
Completed = _named(StateType.COMPLETED, "Completed")
Cached = _named(StateType.COMPLETED, "Cached")
Failed = _named(StateType.FAILED, "Failed")
TimedOut = _named(StateType.FAILED, "TimedOut")
Crashed = _named(StateType.CRASHED, "Crashed")
Cancelled = _named(StateType.CANCELLED, "Cancelled")
Cancelling = _named(StateType.CANCELLING, "Cancelling")
Paused = _named(StateType.PAUSED, "Paused")


def worst_state(states: list[State]) -> State:
    """The state a run reports for a collection of upstream final states (a flow's return value)."""
    total = len(states)
    failed = [s for s in states if s.is_failed() or s.is_crashed()]
    if failed:
        return Failed(f"{len(failed)}/{total} states failed.", failed[0].result(raise_on_failure=False))
    cancelled = [s for s in states if s.is_cancelled()]
    if cancelled:
        return Cancelled(f"{len(cancelled)}/{total} states cancelled.", cancelled[0].data)
    unfinished = [s for s in states if not s.is_completed()]
    if unfinished:
        first = unfinished[0]
        error = first.data if isinstance(first.data, BaseException) else FailedRun(str(first))
        return Failed(f"{len(unfinished)}/{total} states are not final.", error)
    return Completed("All states completed.")
