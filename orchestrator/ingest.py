"""Storing a batch of events (SPEC §4.3): idempotent, order-independent, all
or nothing per event; one transaction and a handful of bulk statements per batch.

Order-independence comes from how run rows merge (orchestrator/ingest_runs.py).
Idempotency from keys: state and log rows are keyed by event id and inserted
with ON CONFLICT DO NOTHING; a run takes its created event once.
Concurrency: every statement touches rows in key order, and tables in one fixed
order (flows, flow-run states, task-run states, logs, flow runs, task runs,
tags, workers, created-event conflicts), so two batches for the same runs wait
on each other instead of deadlocking; existing runs are locked (FOR UPDATE)
before they are merged. Every row records the key that stored it (`stored_by`).
On PostgreSQL the statements go out in a pipeline: about five round trips per batch.
A deadlock or serialization failure (which the ordering should make impossible)
is retried rather than answered with a 5xx.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

from orchestrator import broadcast
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
from orchestrator import metrics
from orchestrator.created_conflicts import record_conflicts
from orchestrator.ingest_runs import RunStore, summarise
from orchestrator.ingest_sql import PipelinedResult, Table, pipeline
from orchestrator.models import FINAL_STATE_TYPES, Flow, FlowRun, FlowRunState, Log, RunTag, TaskRun, TaskRunState, Worker

log = logging.getLogger(__name__)


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


DEFAULT_MAX_CLOCK_SKEW = timedelta(minutes=5)


def latest_accepted_time() -> datetime:
    """Events may be dated up to the allowed clock skew past the server's clock, not further."""
    skew = getattr(settings, "ORCHESTRATOR_MAX_CLOCK_SKEW", DEFAULT_MAX_CLOCK_SKEW)
    return timezone.now() + skew


def ingest_batch(events: list, stored_by: str = "", *, savepoint: bool = True) -> IngestResult:
    """Validate and store a batch; invalid events are reported by index, the rest stored.

    `stored_by` names who sent the batch (the API key's name): every row it stores records it.
    `savepoint=False`: inside a caller's transaction, store without a savepoint of its own (two round
    trips on PostgreSQL) and without retrying: an error goes to the caller, whose transaction ends.
    """
    started = time.perf_counter()
    result = IngestResult()
    valid: list[Event] = []
    seen_ids: set[str] = set()
    latest = latest_accepted_time()
    for index, raw in enumerate(events):
        try:
            event = parse_event(raw, latest)
        except InvalidEvent as exc:
            result.rejected.append({"index": index, "error": str(exc)})
            continue
        if event.id in seen_ids:
            result.duplicates += 1  # the same event twice in one batch
            continue
        seen_ids.add(event.id)
        valid.append(event)
    if valid:
        stored = store(valid, stored_by, savepoint=savepoint)
        result.accepted += stored.accepted
        result.duplicates += len(valid) - stored.accepted
        result.flow_run_ids.update(map(uuid.UUID, stored.flow_run_ids))
        result.task_run_ids.update(map(uuid.UUID, stored.task_run_ids))
        broadcast.publish_on_commit(flow_run_ids=stored.flow_run_ids, task_runs=stored.task_runs,
                                    logged_run_ids=stored.logged_run_ids, workers=stored.workers_changed,
                                    finished_task_run_ids=stored.finished_task_run_ids)
    metrics.record_batch(result.accepted, result.duplicates, len(result.rejected), time.perf_counter() - started)
    return result


@dataclass
class Stored:
    accepted: int
    flow_run_ids: set[str]
    task_run_ids: set[str]
    # For live updates: each changed task run's flow run (None: not in this batch), runs with new logs.
    task_runs: dict[str, str | None] = field(default_factory=dict)
    logged_run_ids: set[str] = field(default_factory=set)
    workers_changed: bool = False
    finished_task_run_ids: set[str] = field(default_factory=set)  # task runs given a final state


TRANSIENT_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure
ATTEMPTS = 3


def store(events: list[Event], stored_by: str = "", savepoint: bool = True) -> Stored:
    """Store valid, distinct events in one transaction, retried if the database calls it off."""
    if not savepoint and transaction.get_connection().in_atomic_block:
        return BatchWriter(events, stored_by).write()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return BatchWriter(events, stored_by).write()
        except OperationalError as exc:
            if attempt == ATTEMPTS or not is_transient(exc):
                raise
            log.warning("retrying an event batch after a transient database error: %s", exc)
    raise AssertionError("unreachable")


def is_transient(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in TRANSIENT_SQLSTATES or "database is locked" in str(exc)


class BatchWriter:
    """Stores one batch of valid, distinct events inside the caller's transaction."""

    def __init__(self, events: list[Event], stored_by: str = "") -> None:
        self.events = events
        self.stored_by = stored_by
        by_type: dict[type, list] = {}
        for e in events:
            by_type.setdefault(type(e), []).append(e)
        self.flow_created: list[FlowRunCreated] = by_type.get(FlowRunCreated, [])
        self.task_created: list[TaskRunCreated] = by_type.get(TaskRunCreated, [])
        states: list[StateEvent] = by_type.get(StateEvent, [])
        # A created event's initial state is a timeline entry keyed by the created event's id.
        self.initial_state_ids = {e.id for e in (*self.flow_created, *self.task_created) if e.initial_state is not None}
        if self.initial_state_ids:
            states = [*states, *(e.initial_state for e in (*self.flow_created, *self.task_created)
                                 if e.initial_state is not None)]
        self.flow_states = [e for e in states if not e.is_task_run]
        self.task_states = [e for e in states if e.is_task_run]
        self.logs: list[LogEvent] = by_type.get(LogEvent, [])
        self.heartbeats: list[WorkerHeartbeat] = by_type.get(WorkerHeartbeat, [])

    def write(self) -> Stored:
        with pipeline():  # each .result() below ends one round trip
            flow_ids = self.ensure_flows({e.flow_name for e in self.flow_created})
            new_flow_states = self.insert_states(FlowRunState, "flow_run", self.flow_states)
            new_task_states = self.insert_states(TaskRunState, "task_run", self.task_states)
            new_logs = self.insert_logs()
            # Merging is idempotent, so runs take every state event, new or already stored.
            flow_summaries, flow_lost = summarise(self.flow_created, self.flow_states)
            task_summaries, task_lost = summarise(self.task_created, self.task_states)
            flow_runs = RunStore(FlowRun, flow_summaries, flow_ids, self.stored_by)
            task_runs = RunStore(TaskRun, task_summaries, flow_ids, self.stored_by)
            flow_runs.insert()
            flow_runs.lock_existing()
            task_runs.insert()
            applied_flow = flow_runs.merge_existing()
            task_runs.lock_existing()
            applied_task = task_runs.merge_existing()
            self.insert_tags(applied_flow, applied_task)
            new_heartbeats = self.store_workers()
            new_states = new_flow_states.result() + new_task_states.result()
            new_logs = new_logs.result()

        not_taken = [*flow_lost, *task_lost, *flow_runs.not_applied(), *task_runs.not_applied()]
        if not_taken:
            new_state_ids = {e.id for e in new_states}
            # One whose initial state was already stored is this batch sent again, not another event.
            record_conflicts([e for e in not_taken if e.initial_state is None or e.id in new_state_ids], self.stored_by)

        # A created event counts once: accepted if its run took it or its initial state is new.
        created_ids = {s.created_event.id for store in (flow_runs, task_runs) for s in store.summaries
                       if s.id in store.applied and s.new_created_event is not None}
        created_ids.update(e.id for e in new_states if e.id in self.initial_state_ids)
        new_state_events = sum(1 for e in new_states if e.id not in self.initial_state_ids)
        accepted = new_state_events + len(new_logs) + len(created_ids) + new_heartbeats
        stored = Stored(accepted, set(applied_flow), set(applied_task))
        for e in new_states:
            (stored.task_run_ids if e.is_task_run else stored.flow_run_ids).add(e.run_id)
        for e in new_logs:
            if e.flow_run_id:
                stored.flow_run_ids.add(e.flow_run_id)
            if e.task_run_id:
                stored.task_run_ids.add(e.task_run_id)
        stored.logged_run_ids = {i for e in new_logs for i in (e.flow_run_id, e.task_run_id) if i}
        stored.task_runs = dict.fromkeys(stored.task_run_ids)
        pairs = [(e.run_id, e.flow_run_id) for e in (*self.task_created, *self.task_states)]
        pairs += [(e.task_run_id, e.flow_run_id) for e in new_logs if e.task_run_id]
        stored.task_runs.update((t, f) for t, f in pairs if f and t in stored.task_runs)
        # The rows just written say which flow run each belongs to, or that it has none: live updates
        # then need no lookup (orchestrator/broadcast.py).
        stored.task_runs.update((t, f or broadcast.NO_FLOW_RUN) for t, f in task_runs.flow_run_of.items()
                                if t in stored.task_runs)
        stored.workers_changed = new_heartbeats > 0
        stored.finished_task_run_ids = {e.run_id for e in new_states if e.is_task_run and e.state_type in FINAL_STATE_TYPES}
        return stored

    @staticmethod
    def ensure_flows(names: set[str]) -> dict[str, int]:
        if not names:
            return {}
        ordered = sorted(names)
        Table(Flow, ["name", "created"]).insert([[n, timezone.now()] for n in ordered], returning=False)
        rows = Table(Flow, ["name"]).select(ordered, ["name", "id"], by="name").result()
        return {row["name"]: row["id"] for row in rows}

    def insert_states(self, model, run_field: str, events: list[StateEvent]) -> PipelinedResult:
        """Insert timeline rows (id = event id); `.result()` is the events that were new."""
        stored_by = self.stored_by
        events = sorted(events, key=lambda e: e.id)
        table = Table(model, ["id", run_field, "type", "name", "message", "timestamp", "seq", "run_count", "error", "result",
                              "stored_by"])
        inserted = table.insert(
            [[e.id, e.run_id, e.state_type, e.state_name, e.message, e.occurred, e.seq, e.run_count, e.error, e.result,
              stored_by] for e in events]
        )
        return _new_events(inserted, events)

    def insert_logs(self) -> PipelinedResult:
        events = sorted(self.logs, key=lambda e: e.id)
        stored_by = self.stored_by
        table = Table(Log, ["id", "flow_run", "task_run", "level", "logger", "message", "timestamp", "seq", "stored_by"])
        inserted = table.insert(
            [[e.id, e.flow_run_id, e.task_run_id, e.level, e.logger, e.message, e.occurred, e.seq, stored_by]
             for e in events]
        )
        return _new_events(inserted, events)

    def insert_tags(self, applied_flow: set[str], applied_task: set[str]) -> None:
        rows = {(e.flow_run_id, None, tag) for e in self.flow_created if e.flow_run_id in applied_flow for tag in e.tags}
        rows |= {(None, e.task_run_id, tag) for e in self.task_created if e.task_run_id in applied_task for tag in e.tags}
        ordered = sorted(rows, key=lambda r: (r[0] is None, r[0] or r[1], r[2]))
        Table(RunTag, ["flow_run", "task_run", "tag"]).insert(ordered, returning=False)

    def store_workers(self) -> int:
        """Upsert workers from heartbeats; return how many heartbeats changed something."""
        if not self.heartbeats:
            return 0
        latest: dict[str, WorkerHeartbeat] = {}
        first: dict[str, datetime] = {}
        for e in self.heartbeats:
            known = latest.get(e.worker_name)
            if known is None or (e.occurred, e.seq) > (known.occurred, known.seq):
                latest[e.worker_name] = e
            first[e.worker_name] = min(first.get(e.worker_name, e.occurred), e.occurred)
        names = sorted(latest)
        columns = ["hostname", "pid", "task_keys", "flow_names", "first_seen", "last_seen", "stored_by"]

        def values(e: WorkerHeartbeat, first_seen: datetime) -> list[Any]:
            return [e.hostname, e.pid, e.task_keys, e.flow_names, first_seen, e.occurred, self.stored_by]

        inserted = Table(Worker, ["name", *columns]).insert([[n, *values(latest[n], first[n])] for n in names]).result()
        changed = set(inserted)
        stale = [n for n in names if n not in inserted]
        stored = Table(Worker, ["name"]).select(stale, ["name", "first_seen", "last_seen"], lock=True).result()
        updates, earlier_first_seen = [], []
        for row in stored:
            n, e = row["name"], latest[row["name"]]
            first_seen = min(row["first_seen"], first[n])
            if e.occurred > row["last_seen"]:
                updates.append([*values(e, first_seen), n])
            elif first_seen != row["first_seen"]:
                earlier_first_seen.append([first_seen, n])
            else:
                continue
            changed.add(n)
        Table(Worker, columns).update(updates)
        Table(Worker, ["first_seen"]).update(earlier_first_seen)
        return sum(1 for e in self.heartbeats if e.worker_name in changed)


def _new_events(inserted: PipelinedResult, events: list) -> PipelinedResult:
    """A PipelinedResult of the events whose rows the insert stored."""
    return inserted.map(lambda keys: [e for e in events if e.id in keys])
