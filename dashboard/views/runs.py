"""`/`: flow runs newest first, filters in the URL, an activity chart above the list."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Min
from django.http import QueryDict
from django.utils import timezone

from dashboard.charts import activity_columns, count_segments, counts_title
from dashboard.filtering import STATE_CHOICES, RANGE_LABELS, filter_runs, newest_first_page
from dashboard.views.common import render_page
from orchestrator import retries
from orchestrator.filters import FlowRunFilter
from orchestrator.models import Flow, FlowRun, TaskRun

PAGE_SIZE = 50
CHART_BUCKETS = 60
DEFAULT_CHART_LOOKBACK = timedelta(days=7)
FRAGMENTS = {"runs-results": "dashboard/partials/runs_results.html"}


def decorate_flow_runs(runs: list[FlowRun]) -> list[FlowRun]:
    """Attach task counts (one grouped query) and the Scheduled runs' waiting reason."""
    counts = TaskRun.objects.counts_by_state(run.id for run in runs)
    for run in runs:
        run.counts = counts[run.id]
        run.task_total = sum(run.counts.values())
        run.count_segments = count_segments(run.counts)
        run.counts_title = counts_title(run.counts)
        run.waiting = retries.waiting_for_worker(run) if run.state_type == "SCHEDULED" else None
    return runs


def chart_range(filtered, now: datetime) -> tuple[datetime, datetime]:
    until = filtered.until or now
    since = filtered.since
    if since is None:
        oldest = filtered.matching.filter(created__gte=until - DEFAULT_CHART_LOOKBACK).aggregate(t=Min("created"))["t"]
        since = oldest or until - timedelta(hours=1)
    if until - since < timedelta(minutes=10):
        since = until - timedelta(minutes=10)
    return since, until


def filtered_flow_runs(query: QueryDict, now: datetime):
    return filter_runs(FlowRunFilter, query, FlowRun.objects.with_flow_name().defer("parameters"), now)


def activity_chart(filtered, now: datetime) -> dict:
    """The activity chart over the filters' time range (or the last week's runs)."""
    since, until = chart_range(filtered, now)
    columns, peak = activity_columns(filtered.matching.activity(since, until, CHART_BUCKETS) if not filtered.errors else [])
    return {"columns": columns, "peak": peak, "since": since, "until": until, "middle": since + (until - since) / 2}


def runs_context(query: QueryDict, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    filtered = filtered_flow_runs(query, now)
    page = newest_first_page(filtered, query, PAGE_SIZE)
    return {
        "runs": decorate_flow_runs(page.runs),
        "filters": filtered,
        "older_query": page.older_query,
        "first_page": page.first_page,
        "newest_query": page.newest_query,
        "chart": activity_chart(filtered, now),
        "state_choices": STATE_CHOICES,
        "range_labels": RANGE_LABELS,
    }


@login_required
def runs_list(request):
    context = runs_context(request.GET)
    context["flows"] = Flow.objects.order_by("name").values_list("name", flat=True)[:500]
    return render_page(request, "dashboard/runs.html", FRAGMENTS, context)
