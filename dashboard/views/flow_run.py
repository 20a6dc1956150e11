"""`/flow-runs/<id>/`: the Gantt of its task runs, its state history, parameters, child runs and logs."""
from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.utils import timezone

from dashboard.charts import count_segments, counts_title
from dashboard.gantt import build_gantt
from dashboard.logs import log_panel
from dashboard.views.common import page_number, render_page, retry_context, run_or_404
from dashboard.views.runs import decorate_flow_runs
from orchestrator import retries
from orchestrator.models import FlowRun, FlowRunState, TaskRun

FRAGMENTS = {
    "gantt": "dashboard/partials/gantt.html",
    "logs-panel": "dashboard/partials/logs_panel.html",
}
CHILDREN_SHOWN = 100


def flow_run_summary(run: FlowRun, user) -> dict:
    counts = TaskRun.objects.counts_by_state([run.id])[run.id]
    parent = None
    if run.parent_flow_run_id:
        parent = FlowRun.objects.with_flow_name().filter(pk=run.parent_flow_run_id).first()
    return {
        "run": run,
        "parent": parent,
        "counts": counts,
        "task_total": sum(counts.values()),
        "failed_total": counts["FAILED"] + counts["CRASHED"],
        "count_segments": count_segments(counts),
        "counts_title": counts_title(counts),
        "waiting": retries.waiting_for_worker(run) if run.state_type == "SCHEDULED" else None,
        **retry_context(run, user),
    }


def flow_run_context(run: FlowRun, query: QueryDict, user, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    states = list(FlowRunState.objects.filter(flow_run_id=run.id).order_by("timestamp", "seq"))
    error = next((s.error for s in reversed(states) if s.error), None)
    children = decorate_flow_runs(list(FlowRun.objects.children_of(run.id)[:CHILDREN_SHOWN]))
    return {
        **flow_run_summary(run, user),
        "gantt": build_gantt(run, page_number(query.get("page")), now, failed_only=query.get("gantt") == "failed"),
        "states": states,
        "error": error,
        "children": children,
        "logs": log_panel(query, flow_run=run.id),
        "query": query,
        "show_task_names": True,
    }


@login_required
def flow_run_page(request, flow_run_id: str):
    run = run_or_404(FlowRun.objects.with_flow_name(), flow_run_id)
    return render_page(request, "dashboard/flow_run.html", FRAGMENTS, flow_run_context(run, request.GET, request.user))
