"""Background runs: creating them for `.delay()`, what a worker needs to run one, claiming it.

A background run is a TaskRun or FlowRun plus a BackgroundRun row that holds its exact
parameters and the number of the Celery message (`dispatch`) that carries it now.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from orchestrator import dispatch
from orchestrator.models import FINAL_STATE_TYPES, BackgroundRun, FlowRun, StateType, TaskRun, TaskRunState, Worker
from orchestrator.run_states import clock_seq, record

UPSTREAM = "__upstream__"


class ParametersNotStored(Exception):
    """The run's parameters cannot be given to a worker as they were; says which and why."""


def live_workers_serving(kind: str, key: str) -> list[Worker]:
    field = "task_keys" if kind == "task" else "flow_names"
    return [w for w in Worker.objects.recent() if key in (getattr(w, field) or [])]


def run_kind(run: TaskRun | FlowRun) -> str:
    return "task" if isinstance(run, TaskRun) else "flow"


def run_key(run: TaskRun | FlowRun) -> str:
    """What a worker must serve to run it: the task key, or the flow's name."""
    if isinstance(run, TaskRun):
        return run.task_key
    return run.flow.name if run.flow_id else ""


def stored_parameters(run: TaskRun | FlowRun) -> dict[str, Any]:
    """The parameters to run it with again, or ParametersNotStored saying why there are none."""
    background = BackgroundRun.objects.filter(run_id=run.id).first()
    if background is not None:
        return background.parameters
    label = f"{run_kind(run).capitalize()} run {run.name or run.id}"
    if not run.has_created_event:
        raise ParametersNotStored(f"{label}'s parameters were never reported (its created event has not arrived)")
    if run.unstored_parameters:
        names = ", ".join(run.unstored_parameters[:10])
        raise ParametersNotStored(
            f"{label}'s parameters were not stored ({names}: not JSON, so only a description was kept); "
            "run it again from your code"
        )
    return {name: _resolve_upstreams(value, name, label) for name, value in (run.parameters or {}).items()}


def _resolve_upstreams(value: Any, name: str, label: str) -> Any:
    """`{"__upstream__": id}` (a future passed in) → that task run's stored JSON result."""
    if isinstance(value, dict):
        if set(value) == {UPSTREAM}:
            return _upstream_result(value[UPSTREAM], name, label)
        return {k: _resolve_upstreams(v, name, label) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_upstreams(v, name, label) for v in value]
    return value


def _upstream_result(upstream_id: Any, name: str, label: str) -> Any:
    try:
        upstream = uuid.UUID(str(upstream_id))
    except ValueError:
        raise ParametersNotStored(f"{label}'s parameter {name} names an unknown upstream run") from None
    state = (TaskRunState.objects.filter(task_run_id=upstream, type=StateType.COMPLETED)
             .order_by("-timestamp", "-seq").first())
    if state is None or state.result is None:
        raise ParametersNotStored(
            f"{label}'s parameter {name} came from task run {upstream}, whose result was not stored as JSON"
        )
    return state.result


def is_json_object(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) for k in value)


@dataclass
class DelayedRun:
    """One `.delay()` call, as the API received it."""

    run_id: uuid.UUID
    task_key: str
    task_name: str = ""
    name: str = ""
    parameters: dict[str, Any] | None = None
    tags: list[str] | None = None
    flow_run_id: uuid.UUID | None = None
    parent_task_run_id: uuid.UUID | None = None

    def created_event(self, occurred: str) -> dict:
        return {
            "id": str(uuid.uuid4()), "type": "task_run.created", "occurred": occurred, "seq": clock_seq(),
            "task_run_id": str(self.run_id), "flow_run_id": str(self.flow_run_id) if self.flow_run_id else None,
            "task_key": self.task_key, "task_name": self.task_name, "name": self.name,
            "parameters": self.parameters or {}, "tags": self.tags or [],
            "parent_task_run_id": str(self.parent_task_run_id) if self.parent_task_run_id else None,
            "upstream_task_run_ids": [], "state_type": "SCHEDULED", "state_name": "Scheduled", "state_message": "",
        }


class NotABackgroundRun(ValueError):
    """The id names a run that exists and was not created by `.delay()`."""


@transaction.atomic
def create_delayed_task_runs(runs: list[DelayedRun]) -> dict[uuid.UUID, bool | NotABackgroundRun]:
    """`.delay()`: Scheduled task runs, each enqueued for its key, in one transaction.

    Idempotent by id: returns, per id, True (created), False (already there) or the refusal."""
    ids = [r.run_id for r in runs]
    known = set(BackgroundRun.objects.select_for_update().filter(run_id__in=ids).values_list("run_id", flat=True))
    foreign = set(TaskRun.objects.filter(pk__in=ids).exclude(pk__in=known).values_list("id", flat=True))
    outcome: dict[uuid.UUID, bool | NotABackgroundRun] = {}
    new: list[DelayedRun] = []
    for run in runs:
        if run.run_id in known or run.run_id in outcome:
            outcome.setdefault(run.run_id, False)
        elif run.run_id in foreign:
            outcome[run.run_id] = NotABackgroundRun(f"task run {run.run_id} already exists and is not a background run")
        else:
            outcome[run.run_id] = True
            new.append(run)
    if new:
        occurred = timezone.now().isoformat()
        record([run.created_event(occurred) for run in new], savepoint=False)  # this transaction is the create
        rows = [BackgroundRun(run_id=run.run_id, kind="task", key=run.task_key, parameters=run.parameters or {},
                              dispatch=1, message_id=str(uuid.uuid4()), enqueued_at=timezone.now()) for run in new]
        BackgroundRun.objects.bulk_create(rows)
        # Sent last: a broker failure rolls the whole batch back.
        dispatch.send_runs([(row, dispatch.run_fields(run.name, row.parameters, 0, run.flow_run_id, run.tags))
                            for row, run in zip(rows, new)])
    return outcome


def create_delayed_task_run(**fields: Any) -> tuple[TaskRun, bool]:
    """One `.delay()` call; returns (run, created). Raises NotABackgroundRun."""
    run = DelayedRun(**fields)
    created = create_delayed_task_runs([run])[run.run_id]
    if isinstance(created, NotABackgroundRun):
        raise created
    return TaskRun.objects.get(pk=run.run_id), created


def enqueue(background: BackgroundRun, run: TaskRun | FlowRun) -> None:
    """Next dispatch: a new message for the run (inside the caller's transaction; the message is
    sent last, so a failure to reach the broker rolls the whole change back)."""
    background.dispatch += 1
    background.message_id = str(uuid.uuid4())
    background.enqueued_at = timezone.now()
    background.claimed_by = ""
    background.claimed_at = None
    background.cancelled_at = None
    background.save(force_insert=background._state.adding)  # a new row: one INSERT, no UPDATE first
    dispatch.send_run(background, dispatch.run_fields(run.name, background.parameters, run.run_count,
                                                      getattr(run, "flow_run_id", None), run.tags))


@dataclass
class Claim:
    """A worker's answer to "may I run dispatch N of this run?"."""

    ok: bool
    outcome: str  # "claimed", or why not: "stale", "cancelled", "taken", "not-yet", "unknown"
    detail: str = ""
    run: TaskRun | FlowRun | None = None
    background: BackgroundRun | None = None


_CLAIM_SQL: dict[tuple, str] = {}


def _claim_statement(model: type[TaskRun] | type[FlowRun]) -> str:
    """What `BackgroundRun.objects.filter(run_id=, kind=, dispatch=, cancelled_at=None, claimed_by="",
    run_id__in=<the run, unless final>).update(claimed_by=, claimed_at=)` says, written once per process:
    the ORM built it anew for every claim, a third of a claim's cost."""
    key = (connection.vendor, model)
    sql = _CLAIM_SQL.get(key)
    if sql is None:
        q = connection.ops.quote_name
        column = BackgroundRun._meta.get_field
        finals = ", ".join(["%s"] * len(FINAL_STATE_TYPES))
        sql = _CLAIM_SQL[key] = (
            f"UPDATE {q(BackgroundRun._meta.db_table)} SET {q(column('claimed_by').column)} = %s, "
            f"{q(column('claimed_at').column)} = %s WHERE {q(column('run_id').column)} = %s "
            f"AND {q(column('kind').column)} = %s AND {q(column('dispatch').column)} = %s "
            f"AND {q(column('cancelled_at').column)} IS NULL AND {q(column('claimed_by').column)} = '' "
            f"AND EXISTS (SELECT 1 FROM {q(model._meta.db_table)} WHERE {q(model._meta.pk.column)} = %s "
            f"AND {q(model._meta.get_field('state_type').column)} NOT IN ({finals}))"
        )
    return sql


def claim(kind: str, run_id: uuid.UUID, worker: str, dispatch_number: int, *, read: bool = True) -> Claim:
    """Claim dispatch `dispatch_number` for `worker`: at most one claim of a dispatch ever succeeds.

    `read=False`: the caller needs only the yes or no (its message carried the run's fields)."""
    model = TaskRun if kind == "task" else FlowRun
    # The usual case in one statement, not a locking transaction of four: a concurrent claim of
    # the same row waits for this UPDATE's row lock, then no longer matches `claimed_by=""`.
    prepared_id = BackgroundRun._meta.pk.get_db_prep_value(run_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(_claim_statement(model), [
            worker[:255], connection.ops.adapt_datetimefield_value(timezone.now()), prepared_id, kind,
            dispatch_number, model._meta.pk.get_db_prep_value(run_id, connection), *sorted(FINAL_STATE_TYPES),
        ])
        taken = cursor.rowcount
    if taken and not read:
        return Claim(True, "claimed")
    if taken:
        run = model.objects.filter(pk=run_id).first()
        background = BackgroundRun.objects.filter(run_id=run_id).first()
        if run is not None and background is not None:
            return Claim(True, "claimed", run=run, background=background)
    return _claim_or_refuse(kind, run_id, worker, dispatch_number)


def claim_many(worker: str, wanted: list[tuple]) -> list[Claim]:
    """Claims of several dispatches (kind, run id, dispatch[, confirm]) for one worker, in one transaction:
    what a worker's concurrent threads ask for together. Each is granted or refused on its own; one marked
    `confirm` asks whether a claim this worker already holds is still its to run (see `confirm`).
    One claim alone is one statement (no transaction around it: two round trips less on PostgreSQL)."""
    def each() -> list[Claim]:
        return [confirm(kind, run_id, worker, number) if again and again[0] else claim(kind, run_id, worker, number, read=False)
                for kind, run_id, number, *again in wanted]

    if len(wanted) == 1:
        return each()
    with transaction.atomic():
        return each()


def confirm(kind: str, run_id: uuid.UUID, worker: str, dispatch_number: int) -> Claim:
    """Whether `worker` still holds dispatch `dispatch_number` and may run it now.

    A worker claims a message when it arrives, and may run it much later (behind long runs). If
    meanwhile the worker went unheard long enough, housekeeping dispatched the run again for
    others: the old claim must then not be used. The worker asks this before running a claim
    that old."""
    background = BackgroundRun.objects.filter(run_id=run_id, kind=kind).first()
    if background is None:
        return Claim(False, "unknown", "no background run with this id")
    if dispatch_number < background.dispatch:
        return Claim(False, "stale", f"superseded by dispatch {background.dispatch}")
    if background.cancelled_at is not None:
        return Claim(False, "cancelled", "the run was cancelled")
    if dispatch_number > background.dispatch or background.claimed_by != worker[:255]:
        return Claim(False, "taken", f"this dispatch is not claimed by {worker[:255]}")
    run = (TaskRun if kind == "task" else FlowRun).objects.filter(pk=run_id).first()
    if run is None:
        return Claim(False, "unknown", "the run does not exist")
    if run.is_final:
        return Claim(False, "stale", f"the run is already {run.state_name}")
    return Claim(True, "claimed")


def release_many(worker: str, held: list[tuple[str, uuid.UUID, int]]) -> list[str]:
    """A stopping worker hands back dispatches (kind, run id, dispatch) it claimed ahead but never started.

    Each run that is still Scheduled is dispatched again (a new message, for any worker; the old
    message, should the broker give it back, is then stale). Per item: "released", or why not:
    "not held" (not this worker's claim of this dispatch), "started" (the run has begun or ended).
    """
    return [_release(kind, run_id, worker, number) for kind, run_id, number in held]


@transaction.atomic
def _release(kind: str, run_id: uuid.UUID, worker: str, dispatch_number: int) -> str:
    background = BackgroundRun.objects.select_for_update().filter(run_id=run_id, kind=kind).first()
    if background is None or background.dispatch != dispatch_number or background.claimed_by != worker[:255]:
        return "not held"
    model = TaskRun if kind == "task" else FlowRun
    run = model.objects.filter(pk=run_id).first()
    if run is None or run.state_type != StateType.SCHEDULED:
        return "started"
    enqueue(background, run)
    return "released"


@transaction.atomic
def _claim_or_refuse(kind: str, run_id: uuid.UUID, worker: str, dispatch_number: int) -> Claim:
    """The claim, step by step under a row lock: says why a dispatch cannot be claimed."""
    background = BackgroundRun.objects.select_for_update().filter(run_id=run_id, kind=kind).first()
    if background is None:
        return Claim(False, "not-yet", "no background run with this id yet")
    if dispatch_number > background.dispatch:
        return Claim(False, "not-yet", "this dispatch is not committed yet")
    if dispatch_number < background.dispatch:
        return Claim(False, "stale", f"superseded by dispatch {background.dispatch}")
    if background.cancelled_at is not None:
        return Claim(False, "cancelled", "the run was cancelled")
    if background.claimed_by:
        return Claim(False, "taken", f"already claimed by {background.claimed_by}")
    model = TaskRun if kind == "task" else FlowRun
    run = model.objects.filter(pk=run_id).first()
    if run is None:
        return Claim(False, "unknown", "the run does not exist")
    if run.is_final:
        return Claim(False, "stale", f"the run is already {run.state_name}")
    background.claimed_by = worker[:255]
    background.claimed_at = timezone.now()
    background.save(update_fields=["claimed_by", "claimed_at"])
    return Claim(True, "claimed", run=run, background=background)
