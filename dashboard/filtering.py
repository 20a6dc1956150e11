"""Run-list filters as the dashboard reads them from the URL.

The filter definitions are the API's (orchestrator.filters); this module only adds
what a page needs around them: repeated `state` checkboxes joined into one list,
a `range` preset (last hour, day, ...), a `before` position for older pages, and
errors collected as sentences to show inline instead of a 400.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone as dt_timezone

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.dateparse import parse_datetime

from orchestrator.filters import StateChoice

RANGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
RANGE_LABELS = {"": "All time", "1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days"}
LABELS = {
    "state": "State", "flow": "Flow", "tag": "Tag", "name": "Task name", "range": "Time range",
    "started_after": "Started after", "started_before": "Started before", "before": "Page", "flow_run": "Flow run",
    "task_key": "Task key",
}
# The state chips of the filter forms (any other state type or name still works in the URL).
STATE_CHOICES = [
    ("COMPLETED", "Completed"), ("FAILED", "Failed"), ("CRASHED", "Crashed"), ("RUNNING", "Running"),
    ("SCHEDULED", "Scheduled"), ("PENDING", "Pending"), ("CANCELLED", "Cancelled"),
]
FAILED_PRESET = "FAILED,CRASHED"  # TimedOut is a FAILED state, so it is included


@dataclass
class FilteredRuns:
    """A filtered queryset plus what the filter form needs to show."""

    runs: QuerySet  # this page: the matching runs older than `before`
    matching: QuerySet  # every matching run
    errors: list[str]
    values: dict[str, str]
    states: set[str] = field(default_factory=set)  # selected state types and names
    since: datetime | None = None
    until: datetime | None = None

    @property
    def active(self) -> bool:
        return any(self.values.get(name) for name in LABELS if name != "before")


def filter_runs(filterset_class, params: QueryDict, queryset: QuerySet, now: datetime) -> FilteredRuns:
    values = {name: params.get(name, "").strip() for name in LABELS}
    values["state"] = ",".join(v.strip() for v in params.getlist("state") if v.strip())
    errors: list[str] = []
    data = {name: value for name, value in values.items() if value and name not in ("range", "before")}

    range_key = values["range"]
    if range_key:
        if range_key in RANGES:
            data.setdefault("started_after", (now - RANGES[range_key]).isoformat())
        else:
            errors.append(f"Time range: unknown range {range_key[:40]!r}; use one of {', '.join(RANGES)}.")

    filterset = filterset_class(data, queryset=queryset)
    if not filterset.is_valid():
        for name, messages in filterset.errors.items():
            errors.append(f"{LABELS.get(name, name)}: {' '.join(str(m) for m in messages)}")
    matching = filterset.qs if not errors else queryset.none()
    runs = matching

    before = values["before"]
    if before and not errors:
        position = parse_position(before)
        if position is None:
            errors.append("Page: the 'before' position is not a date and time.")
            runs = queryset.none()
        else:
            runs = runs.filter(created__lt=position)

    cleaned = filterset.form.cleaned_data if hasattr(filterset.form, "cleaned_data") else {}
    states: set[str] = set()
    if cleaned.get("state"):
        types, names = cleaned["state"]
        states = set(types) | set(names)
    since = cleaned.get("started_after")
    until = cleaned.get("started_before")
    return FilteredRuns(runs, matching, errors, values, states, since, until)


def parse_position(text: str) -> datetime | None:
    try:
        position = parse_datetime(text.replace(" ", "+"))  # a '+' in a URL arrives as a space
    except ValueError:
        return None
    if position is None:
        return None
    if position.tzinfo is None:
        position = position.replace(tzinfo=dt_timezone.utc)
    return position


def states_of(value: str) -> set[str]:
    """The state types and names a `state` value selects (empty when it is invalid)."""
    try:
        cleaned = StateChoice(required=False).clean(value)
    except Exception:
        return set()
    if not cleaned:
        return set()
    return set(cleaned[0]) | set(cleaned[1])


@dataclass
class RunsPage:
    """One page of a newest-first list, with the links to the next older page and back to the newest."""

    runs: list
    older_query: str | None
    newest_query: str
    first_page: bool


def newest_first_page(filtered: FilteredRuns, query: QueryDict, size: int) -> RunsPage:
    runs = list(filtered.runs.newest_first()[: size + 1])
    older = None
    if len(runs) > size:
        runs = runs[:size]
        older_params = query.copy()
        older_params["before"] = runs[-1].created.isoformat()
        older = older_params.urlencode()
    newest = query.copy()
    newest.pop("before", None)
    return RunsPage(runs, older, newest.urlencode(), not filtered.values["before"])
