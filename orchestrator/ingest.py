"""Storing a batch of events (SPEC §4.3): idempotent, order-independent, all
or nothing per event, one transaction and a handful of bulk statements per batch.

How order-independence works: a run row is a *summary* of the events seen for
the run, and summaries merge like sets do (`RunSummary.merge` is commutative,
associative and idempotent): the current state is the greatest (occurred, seq),
the start time the earliest RUNNING, run_count the largest, `created` the
created event's occurred or else the earliest occurred seen. Each batch folds
its events into one summary per run, inserts the runs that are new, and for the
others locks the rows, merges and writes back the ones that changed.

How concurrency stays correct: every statement touches rows in key order and
tables in one fixed order (flows, states, logs, flow runs, task runs, tags,
workers), so two batches for the same runs wait on each other instead of
deadlocking; existing runs are read `FOR UPDATE` before merging.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Union

from django.db import transaction
from django.utils import timezone

from orchestrator.events import (
    Event,
    FlowRunCreated,
    InvalidEvent,
    LogEvent,
    StateEvent,
    TaskRunCreated,
    WorkerHeartbeat,
    parse_event,
)
from orchestrator.ingest_sql import Table
from orchestrator.models import FINAL_STATE_TYPES, Flow, FlowRun, FlowRunState, Log, RunTag, TaskRun, TaskRunState, Worker

RunCreated = Union[FlowRunCreated, TaskRunCreated]


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)  # [{"index": i, "error": "..."}]
    # Runs whose row, state timeline or logs this batch changed (for live updates).
    flow_run_ids: set[uuid.UUID] = field(default_factory=set)
    task_run_ids: set[uuid.UUID] = field(default_factory=set)

    def as_response(self) -> dict:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def ingest_batch(events: list) -> IngestResult:
    """Validate and store a batch; invalid events are reported by index, the rest stored."""
    result = IngestResult()
    valid: list[Event] = []
    seen_ids: set[uuid.UUID] = set()
    for index, raw in enumerate(events):
        try:
            event = parse_event(raw)
        except InvalidEvent as exc:
            result.rejected.append({"index": index, "error": str(exc)})
            continue
        if event.id in seen_ids:
            result.duplicates += 1  # the same event twice in one batch
            continue
        seen_ids.add(event.id)
        valid.append(event)
    if valid:
        with transaction.atomic():
            BatchWriter(valid, result).write()
    return result


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


STORED = "stored"  # a RunSummary.created_event value: the row already holds its created event


@dataclass(slots=True)
class RunSummary:
    """What the events seen so far say about one run; merging two is order-independent."""

    id: uuid.UUID
    created: datetime  # the created event's occurred, else the earliest occurred seen
    created_event: RunCreated | str | None = None  # the event, STORED, or None (not seen yet)
    state: StateSnapshot | None = None
    start_time: datetime | None = None
    run_count: int = 0
    flow_run_id: uuid.UUID | None = None  # task runs: the created event's, else the first state event's

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
            flow_run_id=row.get("flow_run_id"),
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
        starts = [t for t in (self.start_time, other.start_time) if t is not None]
        return RunSummary(
            id=self.id,
            created=created,
            created_event=created_event,
            state=state,
            start_time=min(starts) if starts else None,
            run_count=max(self.run_count, other.run_count),
            flow_run_id=flow_run_id,
        )

    @property
    def end_time(self) -> datetime | None:
        return self.state.timestamp if self.state and self.state.type in FINAL_STATE_TYPES else None

    def progress_values(self) -> list[Any]:
        """Values of PROGRESS_COLUMNS (what states and the created event's time decide)."""
        s = self.state
        return [
            s.type if s else "",
            s.name if s else "",
            s.message if s else "",
            s.timestamp if s else None,
            s.seq if s else None,
            self.start_time,
            self.end_time,
            self.run_count,
            self.created,
            self.created_event is not None,
        ]


PROGRESS_COLUMNS = [
    "state_type", "state_name", "state_message", "state_timestamp", "state_seq",
    "start_time", "end_time", "run_count", "created", "has_created_event",
]
FLOW_RUN_CREATED_COLUMNS = ["name", "parameters", "tags", "parent_task_run_id", "flow", "parent_flow_run_id", "version"]
TASK_RUN_CREATED_COLUMNS = ["name", "parameters", "tags", "parent_task_run_id", "task_key", "task_name", "upstream_task_run_ids"]


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json_list(values: list[str]) -> str:
    return _JSON.encode(values)


class RunStore:
    """Writes merged RunSummaries into FlowRun or TaskRun."""

    def __init__(self, model: type[FlowRun] | type[TaskRun], flow_ids: dict[str, int]) -> None:
        self.model = model
        self.is_task = model is TaskRun
        self.flow_ids = flow_ids
        self.created_columns = TASK_RUN_CREATED_COLUMNS if self.is_task else FLOW_RUN_CREATED_COLUMNS
        link = ["flow_run"] if self.is_task else []
        self.insert_table = Table(model, ["id", *PROGRESS_COLUMNS, *link, *self.created_columns, "updated"])
        self.progress_table = Table(model, [*PROGRESS_COLUMNS, *link, "updated"])
        self.full_table = Table(model, [*PROGRESS_COLUMNS, *link, *self.created_columns, "updated"])

    def created_values(self, event: RunCreated | None) -> list[Any]:
        if event is None:
            if self.is_task:
                return ["", "{}", "[]", None, "", "", "[]"]
            return ["", "{}", "[]", None, None, None, ""]
        tags = _json_list(event.tags)
        if isinstance(event, TaskRunCreated):
            return [event.name, event.parameters, tags, event.parent_task_run_id, event.task_key, event.task_name,
                    event.upstream_task_run_ids]
        return [event.name, event.parameters, tags, event.parent_task_run_id, self.flow_ids[event.flow_name],
                event.parent_flow_run_id, event.version]

    def link_values(self, summary: RunSummary) -> list[Any]:
        return [summary.flow_run_id] if self.is_task else []

    def write(self, summaries: dict[uuid.UUID, RunSummary]) -> set[uuid.UUID]:
        """Store the summaries; return the ids of runs whose created event was applied now."""
        if not summaries:
            return set()
        now = timezone.now()
        ordered = [summaries[k] for k in sorted(summaries)]
        rows = [
            [s.id, *s.progress_values(), *self.link_values(s),
             *self.created_values(s.created_event if isinstance(s.created_event, (FlowRunCreated, TaskRunCreated)) else None),
             now]
            for s in ordered
        ]
        inserted = self.insert_table.insert_ignoring_conflicts(rows)
        applied = {s.id for s in ordered if s.id in inserted and s.created_event is not None}
        existing = [s for s in ordered if s.id not in inserted]
        if not existing:
            return applied
        fields = ["id", "created", "has_created_event", "run_count", "start_time",
                  "state_type", "state_name", "state_message", "state_timestamp", "state_seq"]
        if self.is_task:
            fields.append("flow_run_id")
        stored = {
            row["id"]: RunSummary.of_row(row)
            for row in self.model.objects.select_for_update()
            .filter(id__in=[s.id for s in existing])
            .order_by("id")
            .values(*fields)
        }
        progress_rows, full_rows = [], []
        for s in existing:
            old = stored[s.id]
            new = old.merge(s)
            if isinstance(new.created_event, (FlowRunCreated, TaskRunCreated)):
                applied.add(s.id)
                full_rows.append([*new.progress_values(), *self.link_values(new), *self.created_values(new.created_event), now, s.id])
            elif new.progress_values() != old.progress_values() or new.flow_run_id != old.flow_run_id:
                progress_rows.append([*new.progress_values(), *self.link_values(new), now, s.id])
        self.progress_table.update_by_pk(progress_rows)
        self.full_table.update_by_pk(full_rows)
        return applied


class BatchWriter:
    """Stores one batch of valid, distinct events inside the caller's transaction."""

    def __init__(self, events: list[Event], result: IngestResult) -> None:
        self.events = events
        self.result = result

    def write(self) -> None:
        by_type: dict[type, list] = {}
        for e in self.events:
            by_type.setdefault(type(e), []).append(e)
        flow_created: list[FlowRunCreated] = by_type.get(FlowRunCreated, [])
        task_created: list[TaskRunCreated] = by_type.get(TaskRunCreated, [])
        states: list[StateEvent] = by_type.get(StateEvent, [])
        logs: list[LogEvent] = by_type.get(LogEvent, [])
        heartbeats: list[WorkerHeartbeat] = by_type.get(WorkerHeartbeat, [])

        flow_ids = self.ensure_flows({e.flow_name for e in flow_created})
        flow_states = [e for e in states if not e.is_task_run]
        task_states = [e for e in states if e.is_task_run]
        new_flow_states = self.store_states(FlowRunState, "flow_run", flow_states)
        new_task_states = self.store_states(TaskRunState, "task_run", task_states)
        new_logs = self.store_logs(logs)

        applied_flow = self.store_runs(FlowRun, flow_ids, flow_created, new_flow_states)
        applied_task = self.store_runs(TaskRun, flow_ids, task_created, new_task_states)
        self.store_tags(flow_created, applied_flow, task_created, applied_task)
        new_heartbeats = self.store_workers(heartbeats)

        r = self.result
        r.flow_run_ids.update(e.run_id for e in new_flow_states)
        r.flow_run_ids.update(applied_flow)
        r.task_run_ids.update(e.run_id for e in new_task_states)
        r.task_run_ids.update(applied_task)
        r.flow_run_ids.update(e.flow_run_id for e in new_logs if e.flow_run_id)
        r.task_run_ids.update(e.task_run_id for e in new_logs if e.task_run_id)
        accepted = len(new_flow_states) + len(new_task_states) + len(new_logs) + len(applied_flow) + len(applied_task)
        accepted += new_heartbeats
        r.accepted += accepted
        r.duplicates += len(self.events) - accepted

    @staticmethod
    def ensure_flows(names: set[str]) -> dict[str, int]:
        if not names:
            return {}
        now = timezone.now()
        Table(Flow, ["name", "created"]).insert_ignoring_conflicts([[n, now] for n in sorted(names)], returning=False)
        return dict(Flow.objects.filter(name__in=names).values_list("name", "id"))

    @staticmethod
    def store_states(model, run_field: str, events: list[StateEvent]) -> list[StateEvent]:
        """Insert timeline rows (id = event id); return the events that were new."""
        if not events:
            return []
        events = sorted(events, key=lambda e: e.id)
        table = Table(model, ["id", run_field, "type", "name", "message", "timestamp", "seq", "run_count", "error", "result"])
        inserted = table.insert_ignoring_conflicts(
            [[e.id, e.run_id, e.state_type, e.state_name, e.message, e.occurred, e.seq, e.run_count, e.error, e.result]
             for e in events]
        )
        return [e for e in events if e.id in inserted]

    @staticmethod
    def store_logs(events: list[LogEvent]) -> list[LogEvent]:
        if not events:
            return []
        events = sorted(events, key=lambda e: e.id)
        table = Table(Log, ["id", "flow_run", "task_run", "level", "logger", "message", "timestamp", "seq"])
        inserted = table.insert_ignoring_conflicts(
            [[e.id, e.flow_run_id, e.task_run_id, e.level, e.logger, e.message, e.occurred, e.seq] for e in events]
        )
        return [e for e in events if e.id in inserted]

    @staticmethod
    def store_runs(model, flow_ids: dict[str, int], created: list[RunCreated], states: list[StateEvent]) -> set[uuid.UUID]:
        summaries: dict[uuid.UUID, RunSummary] = {}
        for summary in [*map(RunSummary.of_created, created), *map(RunSummary.of_state, states)]:
            known = summaries.get(summary.id)
            summaries[summary.id] = summary if known is None else known.merge(summary)
        return RunStore(model, flow_ids).write(summaries)

    @staticmethod
    def store_tags(flow_created: list[FlowRunCreated], applied_flow: set, task_created: list[TaskRunCreated], applied_task: set) -> None:
        rows = {(e.flow_run_id, None, tag) for e in flow_created if e.flow_run_id in applied_flow for tag in e.tags}
        rows |= {(None, e.task_run_id, tag) for e in task_created if e.task_run_id in applied_task for tag in e.tags}
        if rows:
            ordered = sorted(rows, key=lambda r: (r[0] is None, str(r[0] or r[1]), r[2]))
            Table(RunTag, ["flow_run", "task_run", "tag"]).insert_ignoring_conflicts(ordered, returning=False)

    @staticmethod
    def store_workers(events: list[WorkerHeartbeat]) -> int:
        """Upsert workers from heartbeats; return how many heartbeats changed something."""
        if not events:
            return 0
        latest: dict[str, WorkerHeartbeat] = {}
        first: dict[str, datetime] = {}
        for e in events:
            known = latest.get(e.worker_name)
            if known is None or (e.occurred, e.seq) > (known.occurred, known.seq):
                latest[e.worker_name] = e
            first[e.worker_name] = min(first.get(e.worker_name, e.occurred), e.occurred)
        names = sorted(latest)
        columns = ["hostname", "pid", "task_keys", "flow_names", "first_seen", "last_seen"]

        def values(e: WorkerHeartbeat, first_seen: datetime) -> list[Any]:
            return [e.hostname, e.pid, e.task_keys, e.flow_names, first_seen, e.occurred]

        inserted = Table(Worker, ["name", *columns]).insert_ignoring_conflicts(
            [[n, *values(latest[n], first[n])] for n in names]
        )
        changed = set(inserted)
        stale = [n for n in names if n not in inserted]
        if stale:
            stored = {
                w["name"]: w
                for w in Worker.objects.select_for_update().filter(name__in=stale).order_by("name").values("name", "first_seen", "last_seen")
            }
            updates, earlier_first_seen = [], []
            for n in stale:
                row, e = stored[n], latest[n]
                first_seen = min(row["first_seen"], first[n])
                if e.occurred > row["last_seen"]:
                    updates.append([*values(e, first_seen), n])
                elif first_seen != row["first_seen"]:
                    earlier_first_seen.append([first_seen, n])
                else:
                    continue
                changed.add(n)
            Table(Worker, columns).update_by_pk(updates)
            Table(Worker, ["first_seen"]).update_by_pk(earlier_first_seen)
        return sum(1 for e in events if e.worker_name in changed)

