"""Celery tasks the server's own worker runs (`celery -A orchestrator worker -B`)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="orchestrator.housekeeping", ignore_result=True)
def housekeeping() -> int:
    from orchestrator.housekeeping import crash_runs_of_silent_workers

    return len(crash_runs_of_silent_workers())
