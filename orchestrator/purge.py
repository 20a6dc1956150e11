"""Deleting what one API key stored (a leaked or buggy key): `manage.py purge --key NAME`.

Every state, log, worker, run and conflict row records `stored_by`. Purging deletes the
rows a key stored, then recomputes what the deleted rows decided on the runs that remain
(current state, start and end time, attempts), so runs converge on what the other keys
reported. A run the key created but others reported states for stays, without its
created event's fields, like a run whose created event has not arrived yet.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Min

from orchestrator.models import (
    FINAL_STATE_TYPES,
    CreatedEventConflict,
    FlowRun,
    FlowRunState,
    Log,
    RunTag,
    TaskRun,
    TaskRunState,
    Worker,
)

RUN_TIMELINES = [(FlowRun, FlowRunState, "flow_run"), (TaskRun, TaskRunState, "task_run")]


@dataclass
class Purged:
    deleted: dict[str, int] = field(default_factory=dict)  # table label -> rows deleted
    recomputed_runs: int = 0


def purge_stored_by(name: str) -> Purged:
    """Delete every row stored by `name` and repair the runs that remain; one transaction."""
    purged = Purged()
    with transaction.atomic():
        for run_model, state_model, run_field in RUN_TIMELINES:
            states = state_model.objects.filter(stored_by=name)
            touched = set(states.values_list(f"{run_field}_id", flat=True))
            purged.deleted[state_model._meta.label] = states.delete()[0]
            runs = run_model.objects.filter(stored_by=name)
            deleted_runs = set(runs.values_list("id", flat=True))
            RunTag.objects.filter(**{f"{run_field}_id__in": deleted_runs}).delete()
            purged.deleted[run_model._meta.label] = runs.delete()[0]
            rebuild_bare_runs(run_model, state_model, run_field, deleted_runs)
            purged.recomputed_runs += recompute_progress(run_model, state_model, run_field, touched | deleted_runs)
        for model in (Log, Worker, CreatedEventConflict):
            purged.deleted[model._meta.label] = model.objects.filter(stored_by=name).delete()[0]
    return purged


def rebuild_bare_runs(run_model, state_model, run_field: str, run_ids: set) -> None:
    """Deleted runs that other keys reported states for come back without created-event fields."""
    earliest = (
        state_model.objects.filter(**{f"{run_field}_id__in": run_ids}).values(f"{run_field}_id")
        .annotate(first=Min("timestamp")).order_by()
    )
    run_model.objects.bulk_create([run_model(id=row[f"{run_field}_id"], created=row["first"]) for row in earliest])


def recompute_progress(run_model, state_model, run_field: str, run_ids: set) -> int:
    """Set each run's current state, start and end time and attempts from its remaining timeline."""
    runs = list(run_model.objects.filter(id__in=run_ids))
    for run in runs:
        timeline = list(state_model.objects.filter(**{f"{run_field}_id": run.id}).order_by("timestamp", "seq"))
        current = timeline[-1] if timeline else None
        run.state_type = current.type if current else ""
        run.state_name = current.name if current else ""
        run.state_message = current.message if current else ""
        run.state_timestamp = current.timestamp if current else None
        run.state_seq = current.seq if current else None
        run.start_time = next((s.timestamp for s in timeline if s.type == "RUNNING"), None)
        run.end_time = current.timestamp if current and current.type in FINAL_STATE_TYPES else None
        run.run_count = max((s.run_count for s in timeline), default=0)
        if not run.has_created_event and timeline:
            run.created = timeline[0].timestamp
    fields = ["state_type", "state_name", "state_message", "state_timestamp", "state_seq", "start_time", "end_time",
              "run_count", "created"]
    run_model.objects.bulk_update(runs, fields)
    return len(runs)
