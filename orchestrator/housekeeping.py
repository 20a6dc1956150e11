"""Housekeeping: background runs whose worker stopped heart-beating end Crashed.

A worker that dies (SIGKILL, power loss) cannot report its run's end. Once the worker
that claimed a run has been silent for `stale_after`, the run is marked Crashed, so
nothing stays Running forever; a run it had claimed ahead but not started (still
Scheduled) is dispatched again instead. Run by `manage.py housekeeping` and by Celery beat.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orchestrator.background import enqueue
from orchestrator.dispatch import BrokerUnavailable
from orchestrator.models import FINAL_STATE_TYPES, WORKER_RECENT, BackgroundRun, FlowRun, StateType, TaskRun, Worker
from orchestrator.run_states import record, state_event

log = logging.getLogger(__name__)


def crash_runs_of_silent_workers(stale_after: timedelta = WORKER_RECENT) -> list[str]:
    """Mark Crashed every unfinished claimed background run whose worker is silent; return their ids."""
    cutoff = timezone.now() - stale_after
    crashed: list[str] = []
    claimed = BackgroundRun.objects.exclude(claimed_by="").filter(claimed_at__lt=cutoff)
    last_seen = dict(Worker.objects.filter(name__in=claimed.values("claimed_by")).values_list("name", "last_seen"))
    for background in claimed:
        seen = last_seen.get(background.claimed_by)
        if seen is not None and seen >= cutoff:
            continue
        if _crash(background, seen):
            crashed.append(str(background.run_id))
    return crashed


def _crash(background: BackgroundRun, seen) -> bool:
    model = TaskRun if background.kind == "task" else FlowRun
    with transaction.atomic():
        locked = BackgroundRun.objects.select_for_update().filter(pk=background.pk, claimed_by=background.claimed_by).first()
        run = model.objects.select_for_update().filter(pk=background.run_id).first()
        if locked is None or run is None:
            return False
        if run.state_type == StateType.SCHEDULED:
            # Claimed ahead but never started (its worker died with it still queued): another worker may
            # run it. A new dispatch; the old message, if the broker gives it back, is stale.
            try:
                with transaction.atomic():  # a savepoint: without a message, the new dispatch is not kept
                    enqueue(locked, run)
            except BrokerUnavailable as exc:  # still claimed by the silent worker: the next pass tries again
                log.warning("%s run %s of silent worker %s not dispatched again yet: %s", background.kind,
                            background.run_id, background.claimed_by, exc)
                return False
            log.warning("%s run %s dispatched again: its worker %s stopped heart-beating before starting it",
                        background.kind, background.run_id, background.claimed_by)
            return False
        locked.claimed_by = ""
        locked.save(update_fields=["claimed_by"])
        if run.state_type in FINAL_STATE_TYPES:
            return False
        when = f"since {seen:%Y-%m-%d %H:%M:%S} UTC" if seen else "ever"
        message = f"Worker {background.claimed_by} stopped heart-beating ({when}) while running it."
        record([state_event(background.kind, run.pk, StateType.CRASHED, "Crashed", message, run_count=run.run_count,
                            flow_run_id=getattr(run, "flow_run_id", None))])
    log.warning("%s run %s marked Crashed: %s", background.kind, background.run_id, message)
    return True
