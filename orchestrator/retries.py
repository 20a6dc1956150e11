"""Retry and cancel from the UI and the API.

# stub: replaced by workers's implementation at merge
Every function refuses with the same reason until task workers can run retries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

NOT_AVAILABLE = "Retry needs a task worker (not available yet)"


class RetryRefused(Exception):
    """A retry or cancel that cannot happen; `reason` is a sentence a person can act on."""

    def __init__(self, reason: str, status: int = 409) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class RetryBatch:
    retried: list[UUID] = field(default_factory=list)
    refused: dict[UUID, str] = field(default_factory=dict)


def can_retry(user) -> bool:
    return bool(user.is_staff or user.is_superuser or user.has_perm("orchestrator.retry_run"))


def refusal_reason(run, user) -> str | None:
    return NOT_AVAILABLE


def retry_task_run(task_run_id, user):
    raise RetryRefused(NOT_AVAILABLE)


def retry_flow_run(flow_run_id, user):
    raise RetryRefused(NOT_AVAILABLE)


def retry_task_runs(task_run_ids, user) -> RetryBatch:
    return RetryBatch(refused={UUID(str(run_id)): NOT_AVAILABLE for run_id in task_run_ids})


def cancel_run(run, user) -> None:
    raise RetryRefused(NOT_AVAILABLE)


def waiting_for_worker(run) -> str | None:
    return None
