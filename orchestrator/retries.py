"""Retrying and cancelling runs from the API and the dashboard (SPEC §5, CONTRACTS §1).

A failed, crashed, cancelled or timed-out run whose key a live worker serves and
whose parameters were stored goes AwaitingRetry and is enqueued; the worker runs it
again with the same id and a higher run_count. Every refusal says what to do about it.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from orchestrator import dispatch
from orchestrator.background import (ParametersNotStored, enqueue, live_workers_serving, run_key, run_kind,
                                     stored_parameters)
from orchestrator.models import BackgroundRun, FlowRun, StateType, TaskRun
from orchestrator.run_states import record, state_event

RETRY_PERMISSION = "orchestrator.retry_run"
RETRYABLE_TYPES = frozenset({StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})
BEING_RETRIED = frozenset({"AwaitingRetry", "Retrying"})
CANCELLABLE_TYPES = frozenset({StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING})
MAX_BULK = 1000


class RetryRefused(Exception):
    """A retry or cancel that cannot happen; `reason` is a sentence a person can act on."""

    def __init__(self, reason: str, status: int = 409) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class RetryBatch:
    retried: list[uuid.UUID] = field(default_factory=list)
    refused: dict[uuid.UUID, str] = field(default_factory=dict)


def can_retry(user) -> bool:
    """Staff, superusers, and holders of orchestrator.retry_run (admin API keys included)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.is_superuser or user.has_perm(RETRY_PERMISSION))


PERMISSION_REASON = (
    "You need the orchestrator.retry_run permission to retry or cancel runs; ask an administrator "
    "(staff have it; API keys need the admin scope)."
)


def _label(run: TaskRun | FlowRun) -> str:
    return f"{run_kind(run).capitalize()} run {run.name or run.id}"


def _key_phrase(run: TaskRun | FlowRun) -> str:
    kind = run_kind(run)
    return f"task key {run_key(run)!r}" if kind == "task" else f"flow {run_key(run)!r}"


def _state_reason(run: TaskRun | FlowRun) -> str | None:
    if run.state_name in BEING_RETRIED:
        return f"{_label(run)} is already being retried ({run.state_name})."
    if run.state_type not in RETRYABLE_TYPES:
        shown = run.state_name or "not reported yet"
        return (f"{_label(run)} is {shown}; only failed, crashed, cancelled or timed-out runs can be retried.")
    return None


def _worker_reason(run: TaskRun | FlowRun) -> str | None:
    key = run_key(run)
    if not key:
        return f"{_label(run)} has no task key or flow name yet (its created event has not arrived)."
    if not live_workers_serving(run_kind(run), key):
        how = "python -m sdk serve module:task" if run_kind(run) == "task" else "python -m sdk serve module:flow"
        return f"No live worker serves {_key_phrase(run)}; start one (`{how}`) and retry."
    return None


def _parameters_reason(run: TaskRun | FlowRun) -> str | None:
    try:
        stored_parameters(run)
    except ParametersNotStored as exc:
        return f"{exc}."
    return None


def refusal_reason(run: TaskRun | FlowRun, user) -> str | None:
    """Why Retry would be refused right now (for a disabled button's title); None when allowed."""
    if not can_retry(user):
        return PERMISSION_REASON
    return _state_reason(run) or _parameters_reason(run) or _worker_reason(run)


def _retry(model: type[TaskRun] | type[FlowRun], run_id, user) -> TaskRun | FlowRun:
    if not can_retry(user):
        raise RetryRefused(PERMISSION_REASON, 403)
    run_id = uuid.UUID(str(run_id))
    with transaction.atomic():
        # Locking the run makes a double click wait for the first retry, then see AwaitingRetry.
        run = model.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            raise model.DoesNotExist(f"no {run_kind(model())} run with id {run_id}")
        reason = _state_reason(run) or _worker_reason(run)
        try:
            parameters = stored_parameters(run)
        except ParametersNotStored as exc:
            reason = reason or f"{exc}."
        if reason:
            raise RetryRefused(reason)
        kind = run_kind(run)
        background = BackgroundRun.objects.select_for_update().filter(run_id=run.id).first()
        if background is None:
            background = BackgroundRun(run_id=run.id, kind=kind, key=run_key(run), parameters=parameters)
        record([state_event(
            kind, run.id, StateType.SCHEDULED, "AwaitingRetry", f"Retry requested by {user}",
            run_count=run.run_count, flow_run_id=getattr(run, "flow_run_id", None),
        )])
        try:
            enqueue(background, run)
        except dispatch.BrokerUnavailable as exc:
            raise RetryRefused(f"{exc}; the run was left as it was. Try again once the broker is back.", 503)
    return model.objects.get(pk=run.id)


def retry_task_run(task_run_id, user) -> TaskRun:
    return _retry(TaskRun, task_run_id, user)


def retry_flow_run(flow_run_id, user) -> FlowRun:
    return _retry(FlowRun, flow_run_id, user)


def newest_matching(matching) -> list[uuid.UUID]:
    """The task runs a retry of "all matching" takes: the newest MAX_BULK of a filtered queryset
    (index taskrun_newest), for the API and the dashboard alike."""
    return list(matching.newest_first().values_list("id", flat=True)[:MAX_BULK])


def retry_task_runs(task_run_ids: Iterable, user) -> RetryBatch:
    """Retry each run on its own: one refusal does not stop the others."""
    if not can_retry(user):
        raise RetryRefused(PERMISSION_REASON, 403)
    ids = list(dict.fromkeys(uuid.UUID(str(i)) for i in task_run_ids))
    if len(ids) > MAX_BULK:
        raise RetryRefused(f"At most {MAX_BULK} runs can be retried at once; narrow the selection.", 400)
    batch = RetryBatch()
    for run_id in ids:
        try:
            retry_task_run(run_id, user)
        except RetryRefused as exc:
            batch.refused[run_id] = exc.reason
        except TaskRun.DoesNotExist:
            batch.refused[run_id] = f"There is no task run with id {run_id}."
        else:
            batch.retried.append(run_id)
    return batch


def cancel_run(run: TaskRun | FlowRun, user) -> None:
    """A Scheduled or Running background run → Cancelled (its message revoked, its worker told)."""
    if not can_retry(user):
        raise RetryRefused(PERMISSION_REASON, 403)
    kind = run_kind(run)
    with transaction.atomic():
        locked = type(run).objects.select_for_update().get(pk=run.pk)
        background = BackgroundRun.objects.select_for_update().filter(run_id=run.pk).first()
        if background is None:
            raise RetryRefused(
                f"{_label(locked)} runs in its own process, not on a task worker; stop it there "
                "(only background runs, from .delay() or a retry, can be cancelled here)."
            )
        if locked.state_type not in CANCELLABLE_TYPES:
            raise RetryRefused(
                f"{_label(locked)} is {locked.state_name or 'not reported yet'}; only Scheduled or Running runs can be cancelled."
            )
        background.cancelled_at = timezone.now()
        background.save(update_fields=["cancelled_at"])
        record([state_event(kind, locked.pk, StateType.CANCELLED, "Cancelled", f"Cancelled by {user}",
                            run_count=locked.run_count, flow_run_id=getattr(locked, "flow_run_id", None))])
        message_id, run_id = background.message_id, locked.pk
        transaction.on_commit(lambda: dispatch.cancel_message(message_id, run_id))
    run.refresh_from_db()


def waiting_for_worker(run: TaskRun | FlowRun) -> str | None:
    """"waiting for a worker that serves <key>" for a Scheduled background run no live worker serves."""
    if run.state_type != StateType.SCHEDULED:
        return None
    background = BackgroundRun.objects.filter(run_id=run.pk).first()
    if background is None or background.cancelled_at is not None:
        return None
    if live_workers_serving(background.kind, background.key):
        return None
    return f"waiting for a worker that serves {background.key}"
