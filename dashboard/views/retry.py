"""Retry buttons: POST views (CSRF-checked) that call orchestrator.retries and show the outcome.

An htmx request gets the button's fragment back (with the refusal's 409/403 status, which
the page's htmx config swaps); a plain form post gets the run page or a redirect.
"""
from __future__ import annotations

import uuid
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboard.filtering import filter_runs
from dashboard.views.common import retry_context, run_or_404
from dashboard.views.flow_run import flow_run_context
from dashboard.views.task_run import task_run_context
from dashboard.views.task_runs import task_runs_context
from orchestrator import retries
from orchestrator.filters import TaskRunFilter
from orchestrator.models import FlowRun, TaskRun

RETRY_STARTED = "Retry scheduled: the run waits in AwaitingRetry until a worker picks it up."


def retry_one(request, run, retry, page_context, page_template: str, retry_id: str, url_name: str):
    try:
        retry(run.id, request.user)
        outcome, refused, status = RETRY_STARTED, False, 200
    except retries.RetryRefused as refusal:
        outcome, refused, status = refusal.reason, True, refusal.status
    run.refresh_from_db()
    if request.htmx:
        context = {
            "run": run, "retry_id": retry_id, "retry_url": reverse(url_name, args=[run.id]),
            "retry_outcome": outcome, "retry_refused": refused, **retry_context(run, request.user),
        }
        return render(request, "dashboard/partials/retry.html", context, status=status)
    if not refused:
        messages.success(request, outcome)
        return redirect(reverse(url_name.replace("-retry", ""), args=[run.id]), permanent=False)
    context = {**page_context(run, QueryDict(), request.user), "retry_outcome": outcome, "retry_refused": True}
    return render(request, page_template, context, status=status)


@login_required
@require_POST
def task_run_retry(request, task_run_id: str):
    run = run_or_404(TaskRun.objects.with_flow_name(), task_run_id)
    return retry_one(request, run, retries.retry_task_run, task_run_context, "dashboard/task_run.html",
                     "task-run-retry", "dashboard:task-run-retry")


@login_required
@require_POST
def flow_run_retry(request, flow_run_id: str):
    run = run_or_404(FlowRun.objects.with_flow_name(), flow_run_id)
    return retry_one(request, run, retries.retry_flow_run, flow_run_context, "dashboard/flow_run.html",
                     "flow-run-retry", "dashboard:flow-run-retry")


def selected_ids(post: QueryDict) -> tuple[list[uuid.UUID], str | None]:
    """The task runs a bulk retry names: ticked ids, or every run matching the posted filters."""
    if post.get("all_matching"):
        filters = QueryDict(post.get("filters", ""))
        filtered = filter_runs(TaskRunFilter, filters, TaskRun.objects.all(), timezone.now())
        if filtered.errors:
            return [], " ".join(filtered.errors)
        return retries.newest_matching(filtered.matching), None
    ids = []
    for raw in post.getlist("ids"):
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            return [], f"{raw[:60]!r} is not a task run id."
    if not ids:
        return [], "Select task runs first (tick their boxes, or tick “All matching”)."
    return ids, None


@login_required
@require_POST
def task_runs_retry(request):
    ids, problem = selected_ids(request.POST)
    status = 200
    outcome: dict = {}
    if problem:
        outcome["message"], status = problem, 400
    elif not retries.can_retry(request.user):
        outcome["message"], status = "You need the permission to retry runs (orchestrator.retry_run).", 403
    else:
        try:
            batch = retries.retry_task_runs(ids, request.user)
        except retries.RetryRefused as refusal:
            outcome["message"], status = refusal.reason, refusal.status
        else:
            outcome["retried"] = batch.retried
            outcome["refused_reasons"] = Counter(batch.refused.values()).most_common()
            if batch.refused and not batch.retried:
                status = 409
    if request.htmx:
        return render(request, "dashboard/partials/bulk_retry_outcome.html", {"outcome": outcome}, status=status)
    filters = QueryDict(request.POST.get("filters", ""))
    context = {**task_runs_context(filters, request.user), "outcome": outcome}
    return render(request, "dashboard/task_runs.html", context, status=status)
