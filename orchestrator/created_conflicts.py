"""Created events that a run did not take, kept when they disagree with the one it did.

A run takes one `*.created` event (whichever arrives first). A second one with
another id that says something else about the run (name, flow, parents,
parameters, ...) comes from a buggy or forged client; instead of dropping it
silently it is recorded as a CreatedEventConflict, with the key that sent it.
The same facts under a new id (a client that reports its run twice) are no conflict.
"""
from __future__ import annotations

import json
from typing import Any, Union

from django.db.models import F

from orchestrator.events import FlowRunCreated, TaskRunCreated
from orchestrator.models import CreatedEventConflict, FlowRun, TaskRun

RunCreated = Union[FlowRunCreated, TaskRunCreated]


def what_it_says(event: RunCreated) -> dict[str, Any]:
    """The run's fields as the created event states them (JSON-safe; compared with the stored row)."""
    said: dict[str, Any] = {
        "name": event.name,
        "parameters": json.loads(event.parameters),
        "tags": list(event.tags),
        "parent_task_run_id": event.parent_task_run_id,
    }
    if isinstance(event, TaskRunCreated):
        return {**said, "flow_run_id": event.flow_run_id, "task_key": event.task_key, "task_name": event.task_name,
                "upstream_task_run_ids": json.loads(event.upstream_task_run_ids)}
    return {**said, "flow_name": event.flow_name, "parent_flow_run_id": event.parent_flow_run_id,
            "version": event.version}


def what_the_row_holds(row: dict[str, Any]) -> dict[str, Any]:
    return {key: (str(value) if key.endswith("_id") and value is not None else value) for key, value in row.items()
            if key != "id"}


def held_by_runs(model: type[FlowRun] | type[TaskRun], run_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not run_ids:
        return {}
    if model is FlowRun:
        rows = FlowRun.objects.filter(id__in=run_ids).annotate(flow_name=F("flow__name")).values(
            "id", "name", "parameters", "tags", "parent_task_run_id", "flow_name", "parent_flow_run_id", "version")
    else:
        rows = TaskRun.objects.filter(id__in=run_ids).values(
            "id", "name", "parameters", "tags", "parent_task_run_id", "flow_run_id", "task_key", "task_name",
            "upstream_task_run_ids")
    return {str(row["id"]): what_the_row_holds(row) for row in rows}


def record_conflicts(not_taken: list[RunCreated], stored_by: str) -> int:
    """Record the created events that disagree with what their run holds; return how many."""
    if not not_taken:
        return 0
    held = {
        **held_by_runs(FlowRun, [e.run_id for e in not_taken if isinstance(e, FlowRunCreated)]),
        **held_by_runs(TaskRun, [e.run_id for e in not_taken if isinstance(e, TaskRunCreated)]),
    }
    conflicts = []
    for event in not_taken:
        said = what_it_says(event)
        if held.get(event.run_id) == said:
            continue
        conflicts.append(CreatedEventConflict(
            id=event.id, run_type=event.type.removesuffix(".created"), run_id=event.run_id, occurred=event.occurred,
            fields=said, stored_by=stored_by,
        ))
    CreatedEventConflict.objects.bulk_create(conflicts, ignore_conflicts=True)
    return len(conflicts)
