"""`/task-runs/<id>/`: state timeline, error and traceback, inputs, result, logs, Retry."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import QueryDict

from dashboard.logs import log_panel
from dashboard.views.common import render_page, retry_context, run_or_404
from orchestrator import retries
from orchestrator.models import FlowRun, TaskRun, TaskRunState

FRAGMENTS = {"logs-panel": "dashboard/partials/logs_panel.html"}
NO_RESULT = object()


def task_run_summary(run: TaskRun, user) -> dict:
    return {
        "run": run,
        "waiting": retries.waiting_for_worker(run) if run.state_type == "SCHEDULED" else None,
        **retry_context(run, user),
    }


def task_run_context(run: TaskRun, query: QueryDict, user) -> dict:
    states = list(TaskRunState.objects.filter(task_run_id=run.id).order_by("timestamp", "seq"))
    failure = next((s for s in reversed(states) if s.error), None)
    stored = next((s for s in reversed(states) if s.type == "COMPLETED" and s.result is not None), None)
    upstream = list(TaskRun.objects.filter(id__in=run.upstream_task_run_ids or []).only("id", "name", "state_type",
                                                                                          "state_name"))
    downstream = list(
        TaskRun.objects.of_flow_run(run.flow_run_id).filter(upstream_task_run_ids__contains=[str(run.id)])
        .only("id", "name", "state_type", "state_name")[:50]
    ) if run.flow_run_id and supports_json_contains() else []
    flow_run = FlowRun.objects.with_flow_name().filter(pk=run.flow_run_id).first() if run.flow_run_id else None
    return {
        **task_run_summary(run, user),
        "states": states,
        "failure": failure,
        "result_state": stored,
        "upstream": upstream,
        "downstream": downstream,
        "flow_run": flow_run,
        "logs": log_panel(query, task_run=run.id),
        "query": query,
    }


def supports_json_contains() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


@login_required
def task_run_page(request, task_run_id: str):
    run = run_or_404(TaskRun.objects.with_flow_name(), task_run_id)
    return render_page(request, "dashboard/task_run.html", FRAGMENTS, task_run_context(run, request.GET, request.user))
