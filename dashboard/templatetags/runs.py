"""Small presentation helpers every page uses: state badges, durations, timestamps."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone as dt_timezone

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

TYPE_LABELS = {
    "SCHEDULED": "Scheduled", "PENDING": "Pending", "RUNNING": "Running", "COMPLETED": "Completed",
    "FAILED": "Failed", "CRASHED": "Crashed", "CANCELLED": "Cancelled", "CANCELLING": "Cancelling", "PAUSED": "Paused",
}


@register.simple_tag
def state_badge(state_type: str, state_name: str = "") -> str:
    """`<span class="state-badge state-failed" data-state-type="FAILED">TimedOut</span>`."""
    state_type = state_type or ""
    name = state_name or TYPE_LABELS.get(state_type, "Unknown")
    css = state_type.lower() if state_type in TYPE_LABELS else "unknown"
    return format_html(
        '<span class="state-badge state-{}" data-state-type="{}">{}</span>', css, state_type, name
    )


@register.filter
def state_css(state_type: str) -> str:
    return state_type.lower() if state_type in TYPE_LABELS else "unknown"


@register.filter
def duration(value: timedelta | float | None) -> str:
    """`850ms`, `4.2s`, `3m 04s`, `2h 05m`, `3d 4h`; empty for None."""
    if value is None:
        return ""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        seconds = 0.0
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


@register.filter
def run_duration(run) -> str:
    """Final runs: start to end. Running ones: start to now (so far)."""
    if run.start_time is None:
        return ""
    end = run.end_time or (None if run.is_final else timezone.now())
    return duration(end - run.start_time) if end else ""


@register.simple_tag
def live_duration(run, empty: str = "") -> str:
    """run_duration; a running run's ticks on in the browser (static/js/running-bars.js reads data-since)."""
    shown = run_duration(run) or empty
    if run.start_time is None or run.end_time is not None or run.is_final:
        return shown
    return format_html('<span data-since="{}">{}</span>', int(run.start_time.timestamp() * 1000), shown)


@register.simple_tag
def server_now_ms() -> int:
    """The server's clock for the page's scripts, which correct the browser's by it."""
    return int(timezone.now().timestamp() * 1000)


@register.simple_tag
def timestamp(value: datetime | None) -> str:
    """A UTC time in a <time> element; the full date only in its title."""
    if value is None:
        return mark_safe('<span class="muted">—</span>')
    value = value.astimezone(dt_timezone.utc)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(), value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC", value.strftime("%b %d, %H:%M:%S"),
    )


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def ago(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = (timezone.now() - value).total_seconds()
    return "just now" if seconds < 1 else f"{int(seconds)}s ago" if seconds < 60 else f"{duration(seconds)} ago"


@register.filter
def thousands(value) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""


@register.simple_tag
def gantt_row(row, oob=False):
    """One Gantt row (dashboard/gantt.py row_html): the page's rows and the rows pushed alone are the same HTML."""
    from dashboard.gantt import row_html  # dashboard.gantt imports this module

    return row_html(row, bool(oob))

