"""`/task-runs/`: task runs across flow runs, the "Failed" preset, filters, select and retry."""
from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.http import QueryDict
from django.utils import timezone

from dashboard.filtering import STATE_CHOICES, FAILED_PRESET, RANGE_LABELS, filter_runs, newest_first_page, states_of
from dashboard.views.common import render_page
from orchestrator import retries
from orchestrator.filters import TaskRunFilter
from orchestrator.models import Flow, TaskRun

PAGE_SIZE = 100
FRAGMENTS = {"task-runs-results": "dashboard/partials/task_runs_results.html"}


def decorate_task_runs(runs: list[TaskRun]) -> list[TaskRun]:
    for run in runs:
        run.waiting = retries.waiting_for_worker(run) if run.state_type == "SCHEDULED" else None
    return runs


def matching_context(matching: int | None) -> dict:
    # "All matching" retries the newest MAX_BULK (orchestrator.retries.newest_matching): say so when more match.
    return {"matching_count": matching,
            "retry_limit": retries.MAX_BULK if matching is not None and matching > retries.MAX_BULK else None}


def task_runs_context(query: QueryDict, user, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    filtered = filter_runs(TaskRunFilter, query, TaskRun.objects.with_flow_name().defer("parameters"), now)
    page = newest_first_page(filtered, query, PAGE_SIZE)
    if filtered.errors:
        matching = 0
    elif page.first_page and page.older_query is None:
        matching = len(page.runs)  # everything that matches is on this page
    else:
        matching = None  # counted by the page's own request to /task-runs/count/ (a million rows take a while)
    return {
        "runs": decorate_task_runs(page.runs),
        "filters": filtered,
        "older_query": page.older_query,
        "newest_query": page.newest_query,
        "first_page": page.first_page,
        "filter_query": page.newest_query,
        **matching_context(matching),
        "failed_preset": FAILED_PRESET,
        "failed_preset_active": filtered.states == states_of(FAILED_PRESET),
        "state_choices": STATE_CHOICES,
        "range_labels": RANGE_LABELS,
        "can_retry": retries.can_retry(user),
    }


@login_required
def matching_count(request):
    """`/task-runs/count/?<filters>`: the exact number "All matching" would select, and the bulk limit note."""
    filtered = filter_runs(TaskRunFilter, request.GET, TaskRun.objects.all(), timezone.now())
    matching = 0 if filtered.errors else filtered.matching.order_by().count()
    return render(request, "dashboard/partials/matching_count.html", matching_context(matching))


@login_required
def task_runs_list(request):
    context = task_runs_context(request.GET, request.user)
    context["flows"] = Flow.objects.order_by("name").values_list("name", flat=True)[:500]
    return render_page(request, "dashboard/task_runs.html", FRAGMENTS, context)
