"""Run rows as summaries of their events, merged order-independently (SPEC §4.3).

A run row summarises the events seen for the run, and `RunSummary.merge` is
commutative, associative and idempotent, so any order and any batching of the
same events gives the same row: the current state is the greatest
(occurred, seq), the start time the earliest RUNNING, run_count the largest,
`created` the created event's occurred or else the earliest occurred seen, and
the created event's fields fill in whenever it arrives.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Union

from django.utils import timezone

from orchestrator.events import FlowRunCreated, StateEvent, TaskRunCreated
from orchestrator.ingest_sql import PipelinedResult, Table
from orchestrator.models import FINAL_STATE_TYPES, FlowRun, TaskRun

RunCreated = Union[FlowRunCreated, TaskRunCreated]
STORED = "stored"  # RunSummary.created_event when the row already holds its created event

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(slots=True)
class StateSnapshot:
    """A run's current state, as it sits on the run row."""

    timestamp: datetime
    seq: int
    type: str
    name: str
    message: str

    def key(self) -> tuple[datetime, int]:
        return (self.timestamp, self.seq)


@dataclass(slots=True)
class RunSummary:
    """What the events seen so far say about one run."""

    id: str
    created: datetime  # the created event's occurred, else the earliest occurred seen
    created_event: RunCreated | str | None = None  # the event, STORED, or None (not seen yet)
    state: StateSnapshot | None = None
    start_time: datetime | None = None
    run_count: int = 0
    flow_run_id: str | None = None  # task runs: the created event's, else the first state event's

    @classmethod
    def of_created(cls, event: RunCreated) -> RunSummary:
        flow_run_id = event.flow_run_id if isinstance(event, TaskRunCreated) else None
        return cls(id=event.run_id, created=event.occurred, created_event=event, flow_run_id=flow_run_id)

    @classmethod
    def of_state(cls, event: StateEvent) -> RunSummary:
        return cls(
            id=event.run_id,
            created=event.occurred,
            state=StateSnapshot(event.occurred, event.seq, event.state_type, event.state_name, event.message),
            start_time=event.occurred if event.state_type == "RUNNING" else None,
            run_count=event.run_count,
            flow_run_id=event.flow_run_id if event.is_task_run else None,
        )

    @classmethod
    def of_row(cls, row: dict) -> RunSummary:
        state = None
        if row["state_timestamp"] is not None:
            state = StateSnapshot(
                row["state_timestamp"], row["state_seq"] or 0, row["state_type"], row["state_name"], row["state_message"]
            )
        return cls(
            id=row["id"],
            created=row["created"],
            created_event=STORED if row["has_created_event"] else None,
            state=state,
            start_time=row["start_time"],
            run_count=row["run_count"],
            flow_run_id=row.get("flow_run"),
        )

    def merge(self, other: RunSummary) -> RunSummary:
        if self.created_event is not None:
            created, created_event, flow_run_id = self.created, self.created_event, self.flow_run_id
        elif other.created_event is not None:
            created, created_event, flow_run_id = other.created, other.created_event, other.flow_run_id
        else:
            created, created_event = min(self.created, other.created), None
            flow_run_id = self.flow_run_id or other.flow_run_id
        if self.state is None or (other.state is not None and other.state.key() > self.state.key()):
            state = other.state
        else:
            state = self.state
        if self.start_time is None or (other.start_time is not None and other.start_time < self.start_time):
            start_time = other.start_time
        else:
            start_time = self.start_time
        return RunSummary(
            id=self.id,
            created=created,
            created_event=created_event,
            state=state,
            start_time=start_time,
            run_count=max(self.run_count, other.run_count),
            flow_run_id=flow_run_id,
        )

    @property
    def end_time(self) -> datetime | None:
        return self.state.timestamp if self.state and self.state.type in FINAL_STATE_TYPES else None

    @property
    def new_created_event(self) -> RunCreated | None:
        """The created event, if this summary carries one the row does not hold yet."""
        return self.created_event if isinstance(self.created_event, (FlowRunCreated, TaskRunCreated)) else None

    def progress_values(self) -> dict[str, Any]:
        """Values of PROGRESS_COLUMNS: what state events and the created event's time decide."""
        s = self.state
        return {
            "state_type": s.type if s else "",
            "state_name": s.name if s else "",
            "state_message": s.message if s else "",
            "state_timestamp": s.timestamp if s else None,
            "state_seq": s.seq if s else None,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "run_count": self.run_count,
            "created": self.created,
            "has_created_event": self.created_event is not None,
        }


def summarise(created: list[RunCreated], states: list[StateEvent]) -> tuple[dict[str, RunSummary], list[RunCreated]]:
    """One summary per run of a batch's created and state events, and the created events that
    lost to another for the same run in this batch (a run takes one)."""
    summaries: dict[str, RunSummary] = {}
    lost: list[RunCreated] = []
    for summary in [*map(RunSummary.of_created, created), *map(RunSummary.of_state, states)]:
        known = summaries.get(summary.id)
        if known is None:
            summaries[summary.id] = summary
            continue
        if known.new_created_event is not None and summary.new_created_event is not None:
            lost.append(summary.new_created_event)
        summaries[summary.id] = known.merge(summary)
    return summaries, lost


PROGRESS_COLUMNS = [
    "state_type", "state_name", "state_message", "state_timestamp", "state_seq",
    "start_time", "end_time", "run_count", "created", "has_created_event",
]
LOCKED_COLUMNS = ["id", "created", "has_created_event", "run_count", "start_time",
                  "state_type", "state_name", "state_message", "state_timestamp", "state_seq"]
# What a run row holds until its created event arrives; the keys are the columns a created event fills.
FLOW_RUN_NOT_CREATED = {"name": "", "parameters": "{}", "tags": "[]", "parent_task_run_id": None, "flow": None,
                        "parent_flow_run_id": None, "version": "", "unstored_parameters": "[]"}
TASK_RUN_NOT_CREATED = {"name": "", "parameters": "{}", "tags": "[]", "parent_task_run_id": None, "task_key": "",
                        "task_name": "", "upstream_task_run_ids": "[]",
                        "unstored_parameters": "[]"}


def in_order(columns: list[str], values: dict[str, Any]) -> list[Any]:
    return [values[c] for c in columns]


class RunStore:
    """Writes RunSummaries into FlowRun or TaskRun: insert the new runs, lock and merge the others.

    Both steps touch rows in id order, so concurrent batches for the same runs
    wait on each other instead of deadlocking, and no merge is lost. A row records
    the key that stored it (`stored_by`): the key of its created event once applied.
    """

    def __init__(self, model: type[FlowRun] | type[TaskRun], summaries: dict[str, RunSummary], flow_ids: dict[str, int],
                 stored_by: str) -> None:
        self.model = model
        self.is_task = model is TaskRun
        self.flow_ids = flow_ids
        self.stored_by = stored_by
        self.summaries = [summaries[k] for k in sorted(summaries)]
        self.not_created = TASK_RUN_NOT_CREATED if self.is_task else FLOW_RUN_NOT_CREATED
        self.created_columns = list(self.not_created)
        self.link = ["flow_run"] if self.is_task else []
        self.now = timezone.now()
        self.applied: set[str] = set()  # runs whose created event this batch stored
        self.inserted: PipelinedResult | None = None
        self.locked: PipelinedResult | None = None
        self.flow_run_of: dict[str, str | None] = {}  # task runs: each row's flow run once written

    def insert(self) -> None:
        columns = ["id", *PROGRESS_COLUMNS, *self.link, *self.created_columns, "stored_by", "updated"]
        rows = [[s.id, *in_order(PROGRESS_COLUMNS, s.progress_values()), *self.link_values(s),
                 *in_order(self.created_columns, self.created_values(s.new_created_event)), self.stored_by, self.now]
                for s in self.summaries]
        self.inserted = Table(self.model, columns).insert(rows)

    def lock_existing(self) -> None:
        """Lock the runs the insert found already there (their merge needs the stored row)."""
        inserted = self.inserted.result()
        self.applied = {s.id for s in self.summaries if s.id in inserted and s.created_event is not None}
        if self.is_task:
            self.flow_run_of = {s.id: s.flow_run_id for s in self.summaries if s.id in inserted}
        existing = [s.id for s in self.summaries if s.id not in inserted]
        self.locked = Table(self.model, ["id"]).select(existing, [*LOCKED_COLUMNS, *self.link], lock=True)

    def merge_existing(self) -> set[str]:
        """Merge the locked rows with the batch, write those that changed; return the runs whose created event was applied."""
        by_id = {s.id: s for s in self.summaries}
        progress_rows, full_rows = [], []
        for row in self.locked.result():
            old = RunSummary.of_row(row)
            new = old.merge(by_id[old.id])
            if self.is_task:
                self.flow_run_of[old.id] = new.flow_run_id
            progress = in_order(PROGRESS_COLUMNS, new.progress_values())
            if new.new_created_event is not None:
                self.applied.add(old.id)
                full_rows.append([*progress, *self.link_values(new),
                                  *in_order(self.created_columns, self.created_values(new.new_created_event)),
                                  self.stored_by, self.now, old.id])
            elif progress != in_order(PROGRESS_COLUMNS, old.progress_values()) or new.flow_run_id != old.flow_run_id:
                progress_rows.append([*progress, *self.link_values(new), self.now, old.id])
        Table(self.model, [*PROGRESS_COLUMNS, *self.link, "updated"]).update(progress_rows)
        Table(self.model, [*PROGRESS_COLUMNS, *self.link, *self.created_columns, "stored_by", "updated"]).update(full_rows)
        return self.applied

    def not_applied(self) -> list[RunCreated]:
        """The batch's created events for runs that already held one (after merge_existing)."""
        return [s.new_created_event for s in self.summaries if s.new_created_event is not None and s.id not in self.applied]

    def link_values(self, summary: RunSummary) -> list[Any]:
        return [summary.flow_run_id] if self.is_task else []

    def created_values(self, event: RunCreated | None) -> dict[str, Any]:
        if event is None:
            return self.not_created
        common = {"name": event.name, "parameters": event.parameters, "tags": _JSON.encode(event.tags),
                  "parent_task_run_id": event.parent_task_run_id, "unstored_parameters": event.unstored_parameters}
        if isinstance(event, TaskRunCreated):
            return {**common, "task_key": event.task_key, "task_name": event.task_name,
                    "upstream_task_run_ids": event.upstream_task_run_ids}
        return {**common, "flow": self.flow_ids[event.flow_name], "parent_flow_run_id": event.parent_flow_run_id,
                "version": event.version}
