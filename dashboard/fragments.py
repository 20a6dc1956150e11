"""Live updates: the HTML a page's websocket receives, made from the page's own partials.

`render_update(path, query, user, changes)` returns elements marked `hx-swap-oob` and
keyed by id, so htmx swaps each into place; `changes=None` (a (re)connect) refreshes
everything the page shows. A row that the browser does not have yet carries
`data-live-insert`, which static/js/live-page.js uses to prepend it.

On a flow run page, when the Gantt the browser shows has the layout the page has now
(`changes.gantt_layout`, read back from what was last sent), only the changed task runs'
rows are sent, not the whole Gantt: the same row partial, on the same axis.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import timezone

from dashboard.filtering import filter_runs
from dashboard.gantt import build_gantt, row_html
from dashboard.logs import log_panel
from dashboard.views.common import page_number
from dashboard.views import flow_run as flow_run_view
from dashboard.views import runs as runs_view
from dashboard.views import task_run as task_run_view
from dashboard.views import task_runs as task_runs_view
from dashboard.views.workers import workers_context
from orchestrator.filters import FlowRunFilter, TaskRunFilter
from orchestrator.models import FlowRun, FlowRunState, TaskRun, TaskRunState

MAX_ROW_UPDATES = 50  # more changed rows than this: refresh the whole list instead
FLOW_RUN_PAGE = re.compile(r"^/flow-runs/(?P<id>[^/]+)/$")
TASK_RUN_PAGE = re.compile(r"^/task-runs/(?P<id>[^/]+)/$")


@dataclass
class Changes:
    flow_run_ids: set[str] = field(default_factory=set)
    task_run_ids: set[str] = field(default_factory=set)
    logs: bool = False
    workers: bool = False
    gantt_layout: str | None = None  # the layout of the Gantt the browser shows (None: unknown)

    def __bool__(self) -> bool:
        return bool(self.flow_run_ids or self.task_run_ids or self.logs or self.workers)


def render_update(path: str, query: QueryDict, user, changes: Changes | None) -> str:
    if changes is not None and not changes:
        return ""
    if path == "/":
        return runs_update(query, changes)
    if path == "/task-runs/":
        return task_runs_update(query, user, changes)
    if path == "/workers/":
        return oob("dashboard/partials/workers_body.html", workers_context())
    if match := FLOW_RUN_PAGE.match(path):
        return flow_run_update(match["id"], query, user, changes)
    if match := TASK_RUN_PAGE.match(path):
        return task_run_update(match["id"], query, user, changes)
    return ""


def oob(template: str, context: dict) -> str:
    return render_to_string(template, {**context, "oob": True})


def wrapped(element_id: str, template: str, context: dict) -> str:
    """A partial that lacks its own id'd element, inside one that swaps out of band."""
    return f'<div id="{element_id}" hx-swap-oob="true">{render_to_string(template, context)}</div>'


def uuids(raw: set[str]) -> list[uuid.UUID]:
    ids = []
    for value in raw:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return ids


def runs_update(query: QueryDict, changes: Changes | None) -> str:
    if changes is None or len(changes.flow_run_ids) > MAX_ROW_UPDATES:
        return wrapped("runs-results", "dashboard/partials/runs_results.html", runs_view.runs_context(query))
    rows = changed_rows(
        FlowRunFilter, FlowRun.objects.with_flow_name(), runs_view.decorate_flow_runs, changes.flow_run_ids, query,
        "dashboard/partials/flow_run_row.html", "flow-run-",
    )
    if not rows:
        return ""
    now = timezone.now()
    chart = render_to_string("dashboard/partials/activity.html",
                             {"chart": runs_view.activity_chart(runs_view.filtered_flow_runs(query, now), now)})
    # Rows first: outside a table the HTML parser keeps a <tr> only before any other element.
    return f'{rows}<section class="card chart-card" id="activity" hx-swap-oob="true">{chart}</section>'


def task_runs_update(query: QueryDict, user, changes: Changes | None) -> str:
    if changes is None or len(changes.task_run_ids) > MAX_ROW_UPDATES:
        context = task_runs_view.task_runs_context(query, user)
        return wrapped("task-runs-results", "dashboard/partials/task_runs_results.html", context)
    return changed_rows(
        TaskRunFilter, TaskRun.objects.with_flow_name(), task_runs_view.decorate_task_runs, changes.task_run_ids,
        query, "dashboard/partials/task_run_row.html", "task-run-row-",
    )


def changed_rows(filterset_class, queryset, decorate, raw_ids: set[str], query: QueryDict, template: str,
                 id_prefix: str) -> str:
    """Changed runs that match the page's filters as rows (new ones to insert on the first page);
    changed runs that no longer match, removed."""
    ids = uuids(raw_ids)
    if not ids:
        return ""
    filtered = filter_runs(filterset_class, query, queryset, timezone.now())
    matching = decorate(list(filtered.runs.filter(id__in=ids).order_by("created", "id")))
    insert = not query.get("before")
    parts = [render_to_string(template, {"run": run, "oob": True, "insert": insert}) for run in matching]
    gone = set(ids) - {run.id for run in matching}
    parts += [f'<tr id="{id_prefix}{run_id}" hx-swap-oob="delete"></tr>' for run_id in sorted(gone, key=str)]
    return "".join(parts)


def flow_run_update(raw_id: str, query: QueryDict, user, changes: Changes | None) -> str:
    ids = uuids({raw_id})
    run = FlowRun.objects.with_flow_name().filter(pk=ids[0]).first() if ids else None
    if run is None:
        return ""
    now = timezone.now()
    page, failed_only = page_number(query.get("page")), query.get("gantt") == "failed"
    gantt = None
    if rows_wanted(changes):
        changed = build_gantt(run, page, now, failed_only, only=changes.task_run_ids)
        gantt = changed if changed.layout == changes.gantt_layout else None
    context = {**flow_run_view.flow_run_summary(run, user), "query": query, "show_task_names": True}
    parts = [oob("dashboard/partials/flow_run_summary.html", context)]
    if gantt is not None:
        # Same axis, same rows on this page: every other row is already where it belongs.
        parts += [row_html(row, oob=True) for row in gantt.rows]
    else:
        context["gantt"] = build_gantt(run, page, now, failed_only)
        parts.append(oob("dashboard/partials/gantt.html", context))
    parts.append(wrapped("flow-run-states", "dashboard/partials/state_history.html",
                         {"states": FlowRunState.objects.filter(flow_run_id=run.id).order_by("timestamp", "seq")}))
    if changes is None or changes.logs:
        parts.append(oob("dashboard/partials/logs_panel.html", {**context, "logs": log_panel(query, flow_run=run.id)}))
    return "".join(parts)


def rows_wanted(changes: Changes | None) -> bool:
    """Whether the changed rows alone may do: the browser's Gantt layout is known, few rows changed."""
    return (changes is not None and changes.gantt_layout is not None and len(changes.task_run_ids) <= MAX_ROW_UPDATES
            and getattr(settings, "DASHBOARD_GANTT_ROW_UPDATES", True))


def task_run_update(raw_id: str, query: QueryDict, user, changes: Changes | None) -> str:
    ids = uuids({raw_id})
    run = TaskRun.objects.with_flow_name().filter(pk=ids[0]).first() if ids else None
    if run is None:
        return ""
    if changes is not None and not changes.task_run_ids and not changes.flow_run_ids and changes.logs:
        return oob("dashboard/partials/logs_panel.html", {"logs": log_panel(query, task_run=run.id)})
    context = task_run_view.task_run_context(run, query, user)
    parts = [
        oob("dashboard/partials/task_run_summary.html", context),
        oob("dashboard/partials/task_run_error.html", context),
        wrapped("task-run-states", "dashboard/partials/state_history.html",
                {"states": TaskRunState.objects.filter(task_run_id=run.id).order_by("timestamp", "seq")}),
    ]
    if changes is None or changes.logs:
        parts.append(oob("dashboard/partials/logs_panel.html", context))
    return "".join(parts)
