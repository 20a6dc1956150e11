"""A flow run's timeline: one bar per task run on a shared time axis.

The server computes every bar as SVG x/width over a 0..1000 track, so a page of
thousands of rows needs no script and no inline style. A retried task run's bar
holds one segment per attempt, coloured by how that attempt ended.

While anything runs, the axis ends at a round span ahead of now (`running_axis_end`), so it
stays put between pushes: a live update can swap just the changed rows, and
static/js/running-bars.js grows the running bars from their data attributes. `layout`
names what fixes every row's position (axis, page, the rows on it); rows swapped into a
Gantt of the same layout line up with the rest.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from dashboard.charts import svg_number
from dashboard.templatetags.runs import duration
from orchestrator.models import FlowRun, TaskRun, TaskRunState

TRACK = 1000.0
MIN_WIDTH = 2.0  # a run of a few ms still shows as a sliver
PAGE_SIZE = 250  # rows per Gantt page: a flow of 10,000 task runs is 40 light pages, not one frozen tab
TICKS = 6
FAILED_TYPES = ("FAILED", "CRASHED")
# Spans a running Gantt's axis can take, in seconds: it takes the first one that now sits in the first
# RENEW_AT of, and moves to the next when now passes that point (pages fetch the new axis then).
ROUND_SPANS = (
    1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600,
    86400, 2 * 86400, 4 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 60 * 86400, 90 * 86400, 180 * 86400, 365 * 86400,
)
RENEW_AT = 0.8
ROW_FIELDS = ("id", "name", "state_type", "state_name", "state_timestamp", "run_count", "start_time", "end_time",
              "upstream_task_run_ids", "created")


@dataclass
class Bar:
    state: str  # css suffix: completed, failed, running...
    x: str  # SVG numbers, formatted once here rather than localized per row by the template
    width: str
    title: str
    since_ms: int | None = None  # a running attempt: when it began (the page's script grows the bar)


@dataclass
class GanttRow:
    """What one row shows, resolved here: one-level lookups keep a page of rows cheap to render."""

    id: str
    name: str
    state_type: str
    state_name: str
    css: str  # the state's css suffix
    attempts: int
    bars: list[Bar]
    upstream: str  # space-separated ids, read by static/js/gantt.js
    duration: str
    running_since_ms: int | None = None  # running: its start, so the page's script ticks the duration


@dataclass
class Gantt:
    start: datetime
    end: datetime
    rows: list[GanttRow]
    total: int
    page: int
    pages: int
    ticks: list[str] = field(default_factory=list)
    failed_only: bool = False
    renew: datetime | None = None  # running: when this axis gives way to the next (None: final)
    layout: str = ""

    @property
    def start_ms(self) -> int:
        return epoch_ms(self.start)

    @property
    def end_ms(self) -> int:
        return epoch_ms(self.end)

    @property
    def renew_ms(self) -> int | None:
        return epoch_ms(self.renew) if self.renew else None

    @property
    def first_index(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.rows) - 1


def build_gantt(flow_run: FlowRun, page: int = 1, now: datetime | None = None, failed_only: bool = False,
                only: set[str] | None = None) -> Gantt:
    """The task runs of one Gantt page; `failed_only` keeps the failed and crashed ones (the axis stays the run's).

    `only`: rows for these task run ids alone (the layout is still the whole page's), for a live
    update that sends changed rows; reading a page's ids costs far less than making its rows.
    """
    now = now or timezone.now()
    span = TaskRun.objects.timeline_span(flow_run.id)
    rows_query = TaskRun.objects.of_flow_run(flow_run.id)
    if failed_only:
        rows_query = rows_query.filter(state_type__in=FAILED_TYPES)
    total = rows_query.count() if failed_only else span["count"]
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    starts = [t for t in (flow_run.start_time, span["first_start"], span["first_created"]) if t]
    start = min(starts) if starts else flow_run.created
    ends = [t for t in (flow_run.end_time, span["last_end"]) if t]
    running = not flow_run.is_final or TaskRun.objects.of_flow_run(flow_run.id).filter(end_time__isnull=True,
                                                                                        start_time__isnull=False).exists()
    renew = None
    if running:
        end, renew = running_axis_end(start, now)
        end = max([end, *ends])
    else:
        end = max(ends or [now])
    if end <= start:
        end = start + timedelta(seconds=1)
    scale = TRACK / (end - start).total_seconds()

    window = rows_query[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    if only is None:
        runs = list(window.only(*ROW_FIELDS))
        page_ids = [run.id for run in runs]
    else:
        page_ids = list(window.values_list("id", flat=True))
        wanted = [run_id for run_id in page_ids if str(run_id) in only]
        runs = list(TaskRun.objects.filter(id__in=wanted).order_by("created", "id").only(*ROW_FIELDS)) if wanted else []
    retried = [run.id for run in runs if run.run_count > 1]
    attempts = attempts_by_run(retried) if retried else {}

    def place(begin: datetime, finish: datetime) -> tuple[str, str]:
        x = min(max(0.0, (begin - start).total_seconds() * scale), TRACK - MIN_WIDTH)
        width = min(max(MIN_WIDTH, (finish - begin).total_seconds() * scale), TRACK - x)
        return svg_number(x), svg_number(width)

    rows = []
    for run in runs:
        bars = []
        if run.id in attempts:
            for state, begin, finish, number in attempts[run.id]:
                x, width = place(begin, finish or now)
                bars.append(Bar(state, x, width, f"attempt {number}: {state}, {duration((finish or now) - begin)}",
                                epoch_ms(begin) if finish is None and not run.is_final else None))
        elif run.start_time:
            finish = run.end_time or (now if not run.is_final else run.state_timestamp or now)
            x, width = place(run.start_time, finish)
            growing = run.end_time is None and not run.is_final
            bars.append(Bar((run.state_type or "pending").lower(), x, width, run.state_name or run.state_type,
                            epoch_ms(run.start_time) if growing else None))
        took = (run.end_time or (None if run.is_final else now)) - run.start_time if run.start_time else None
        ticking = run.start_time is not None and run.end_time is None and not run.is_final
        rows.append(GanttRow(
            str(run.id), run.name or str(run.id), run.state_type, run.state_name,
            run.state_type.lower() if run.state_type else "unknown", run.run_count, bars,
            " ".join(str(u) for u in run.upstream_task_run_ids or []), duration(took) if took is not None else "",
            epoch_ms(run.start_time) if ticking else None,
        ))
    ticks = [tick_label(start + (end - start) * i / (TICKS - 1), start, end) for i in range(TICKS)]
    layout = layout_of(start, end, total, page, failed_only, page_ids)
    return Gantt(start, end, rows, total, page, pages, ticks, failed_only, renew, layout)


def running_axis_end(start: datetime, now: datetime) -> tuple[datetime, datetime]:
    """(axis end, when it gives way): the first round span that now is within RENEW_AT of."""
    elapsed = max((now - start).total_seconds(), 0.0)
    span = next((s for s in ROUND_SPANS if elapsed < s * RENEW_AT), None)
    if span is None:  # over a year: whole years
        span = ROUND_SPANS[-1] * (int(elapsed / (ROUND_SPANS[-1] * RENEW_AT)) + 1)
    return start + timedelta(seconds=span), start + timedelta(seconds=span * RENEW_AT)


def layout_of(start: datetime, end: datetime, total: int, page: int, failed_only: bool, ids: list) -> str:
    """What fixes every row's place on a Gantt page: equal layouts line up row for row."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"{start.isoformat()}|{end.isoformat()}|{total}|{page}|{failed_only}|".encode())
    digest.update(b",".join(run_id.bytes for run_id in ids))
    return digest.hexdigest()


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def attempts_by_run(task_run_ids: list) -> dict:
    """Each attempt of each run: (state it ended in, began, ended or None while running, attempt number)."""
    states = TaskRunState.objects.filter(task_run_id__in=task_run_ids).order_by("task_run_id", "timestamp", "seq")
    result: dict = {}
    open_attempt: dict = {}
    for state in states.only("task_run_id", "type", "name", "timestamp", "run_count"):
        runs = result.setdefault(state.task_run_id, [])
        current = open_attempt.get(state.task_run_id)
        if state.type == "RUNNING":
            if current is not None:
                runs.append(("running", current[0], state.timestamp, current[1]))
            open_attempt[state.task_run_id] = (state.timestamp, state.run_count or len(runs) + 1)
        elif current is not None:
            # An attempt that will be retried ends in AwaitingRetry (a SCHEDULED state): it failed.
            outcome = "failed" if state.name == "AwaitingRetry" else (state.type or "pending").lower()
            runs.append((outcome, current[0], state.timestamp, current[1]))
            open_attempt.pop(state.task_run_id)
    for run_id, (began, number) in open_attempt.items():
        result.setdefault(run_id, []).append(("running", began, None, number))
    return {run_id: attempts for run_id, attempts in result.items() if attempts}


def tick_label(moment: datetime, start: datetime, end: datetime) -> str:
    span = (end - start).total_seconds()
    if span < 120:
        offset = (moment - start).total_seconds()
        return f"+{offset * 1000:.0f}ms" if span < 2 else f"+{offset:.1f}s" if span < 20 else f"+{offset:.0f}s"
    return moment.strftime("%H:%M:%S")


def row_html(row: GanttRow, oob: bool = False) -> str:
    """One Gantt row's HTML (gantt.html renders it through the `gantt_row` tag; live pushes of changed
    rows call it directly), built here rather than by the template language: a page holds 250 rows and the
    template took about two thirds of the flow run page's render. Every value is escaped."""
    e = escape
    since = f' data-since="{row.running_since_ms}"' if row.running_since_ms else ""
    parts = [
        f'<li id="task-run-{e(row.id)}" class="gantt-row"', ' hx-swap-oob="true"' if oob else "",
        f' data-state-type="{e(row.state_type)}" data-state-name="{e(row.state_name)}" data-upstream="{e(row.upstream)}">'
        f'<a class="gantt-label" href="/task-runs/{e(row.id)}/" title="{e(row.name)}: {e(row.state_name or "no state yet")}">'
        f'<span class="dot fill-{e(row.css)}"></span><span class="name">{e(row.name)}</span>',
    ]
    if row.attempts > 1:
        parts.append(f'<span class="attempts" title="{row.attempts} attempts">×{row.attempts}</span>')
    parts.append('</a><svg class="gantt-track" viewBox="0 0 1000 10" preserveAspectRatio="none" aria-hidden="true">')
    for bar in row.bars:
        bar_since = f' data-since="{bar.since_ms}"' if bar.since_ms else ""
        parts.append(f'<rect class="fill-{e(bar.state)}" x="{e(bar.x)}" y="1.5" width="{e(bar.width)}" height="7"{bar_since}>'
                     f'<title>{e(bar.title)}</title></rect>')
    parts.append(f'</svg><span class="gantt-dur"{since}>{e(row.duration)}</span></li>')
    return mark_safe("".join(parts))

