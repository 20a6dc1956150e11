"""Query-string filters of run, task-run and log lists, shared by the API and the dashboard.

Every filter validates its value; a bad one is a form error naming the filter (the API
answers 400, the dashboard shows it inline). Datetimes without a timezone are read as UTC.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone as dt_timezone

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from orchestrator.models import STATE_NAMES, Flow, FlowRun, Log, RunTag, StateType, TaskRun

MAX_TEXT = 255  # the longest name, key or tag a run can have
MAX_STATES = 50  # more comma-separated states than this is not a real query
MAX_SEARCH = 200  # log search text: longer patterns cost more per row and find nothing more

LEVEL_NAMES = {"NOTSET": 0, "DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50, "FATAL": 50}
MAX_LEVEL = 32767  # Log.level is a small integer


def one_of(words) -> str:
    return "|".join(re.escape(word) for word in sorted(set(words), key=lambda w: (-len(w), w)))


# What a `state` value may name: a type or a state name, as written or in lower case (`failed`, `timedout`).
STATE_WORDS = {*StateType.values, *STATE_NAMES, *(w.lower() for w in (*StateType.values, *STATE_NAMES))}
STATE_ITEM = f"(?:{one_of(STATE_WORDS)})"
# The API schema's pattern and the parser are the same regular expression, so they cannot disagree.
STATE_PATTERN = f"^{STATE_ITEM}(?:,{STATE_ITEM}){{0,{MAX_STATES - 1}}}$"
STATE_RE = re.compile(STATE_PATTERN[1:-1])


class ExactText(forms.CharField):
    """Taken as written: surrounding spaces are not stripped, so the schema's pattern is the whole rule."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["strip"] = False
        super().__init__(*args, **kwargs)


class StateChoice(ExactText):
    """`FAILED`, `Failed`, `failed,Cached`: state types and state names, comma-separated.

    An exact type (`FAILED`) or exact name (`TimedOut`) is taken as written; a lower-case
    word is a type when one has that name (`failed` is the type FAILED), else a name.
    Cleans to `(types, names)`.
    """

    def clean(self, value):
        value = super().clean(value)
        if not value:  # absent (the API refuses a present but empty value)
            return None
        if not STATE_RE.fullmatch(value):
            unknown = next((item for item in value.split(",") if item not in STATE_WORDS), value)
            raise forms.ValidationError(
                f"unknown state {unknown[:40]!r} (give at most {MAX_STATES}, comma-separated, no spaces); "
                f"valid types: {', '.join(StateType.values)}; valid names: {', '.join(STATE_NAMES)} "
                f"(or either in lower case)"
            )
        types: set[str] = set()
        names: set[str] = set()
        for item in value.split(","):
            kind, state = parse_state(item)
            (types if kind == "type" else names).add(state)
        return sorted(types), sorted(names)


def parse_state(text: str) -> tuple[str, str]:
    if text in StateType.values:
        return "type", text
    if text in STATE_NAMES:
        return "name", text
    if text.upper() in StateType.values:
        return "type", text.upper()
    return "name", {name.lower(): name for name in STATE_NAMES}[text]


class StateFilter(django_filters.Filter):
    field_class = StateChoice

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if not value:
            return qs
        types, names = value
        condition = Q()
        if types:
            condition |= Q(state_type__in=types)
        if names:
            condition |= Q(state_name__in=names)
        return qs.filter(condition)


# A level: a number 0-32767 without leading zeros, or a level name in upper or lower case.
LEVEL_NUMBER = r"0|[1-9][0-9]{0,3}|[12][0-9]{4}|3[01][0-9]{3}|32[0-6][0-9]{2}|327[0-5][0-9]|3276[0-7]"
LEVEL_PATTERN = f"^(?:{LEVEL_NUMBER}|{one_of([*LEVEL_NAMES, *(n.lower() for n in LEVEL_NAMES)])})$"
LEVEL_RE = re.compile(LEVEL_PATTERN[1:-1])


class LevelChoice(ExactText):
    """A logging level as a number (`30`) or a name (`WARNING` or `warning`)."""

    def clean(self, value):
        value = super().clean(value)
        if not value:  # absent (the API refuses a present but empty value)
            return None
        if not LEVEL_RE.fullmatch(value):
            raise forms.ValidationError(
                f"unknown level {value[:40]!r}; use a number from 0 to {MAX_LEVEL} or one of "
                f"DEBUG, INFO, WARNING, ERROR, CRITICAL"
            )
        return int(value) if value.isdigit() else LEVEL_NAMES[value.upper()]


class MinimumLevelFilter(django_filters.Filter):
    field_class = LevelChoice

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(level__gte=value)


class TextFilter(django_filters.CharFilter):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", MAX_TEXT)
        super().__init__(**kwargs)


class MessageTextFilter(django_filters.CharFilter):
    """Log search text."""


class TagFilter(django_filters.CharFilter):
    """Runs carrying this tag, through RunTag (indexed on every database)."""

    def __init__(self, run_field: str, **kwargs) -> None:
        kwargs.setdefault("max_length", MAX_TEXT)
        super().__init__(**kwargs)
        self.run_field = run_field

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if not value:
            return qs
        tagged = RunTag.objects.filter(tag=value, **{f"{self.run_field}__isnull": False})
        return qs.filter(id__in=tagged.values(self.run_field))


class FlowNameFilter(django_filters.CharFilter):
    """Runs of the flow with this name.

    The name is resolved to the flow's id first, so that PostgreSQL plans with the
    statistics of flow_id (a rare flow: index on flow; a common one: newest-first scan)
    instead of a blind join estimate, which made a rare flow scan every task run.
    """

    def __init__(self, flow_id_field: str, **kwargs) -> None:
        kwargs.setdefault("max_length", MAX_TEXT)
        super().__init__(**kwargs)
        self.flow_id_field = flow_id_field

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if not value:
            return qs
        flow_id = Flow.objects.filter(name=value).values_list("id", flat=True).first()
        if flow_id is None:
            return qs.none()
        if self.flow_id_field == "flow_id":
            return qs.filter(flow_id=flow_id)
        return qs.filter(flow_run_id__in=FlowRun.objects.filter(flow_id=flow_id).values("id"))


def text(lookup: str, help_text: str) -> django_filters.CharFilter:
    return TextFilter(field_name=lookup, help_text=help_text)


STARTED_HELP = "ISO 8601; without a timezone it is read as UTC"
# A run is created before it starts; the slack only absorbs clocks that disagree.
CREATED_BEFORE_START_SLACK = timedelta(hours=1)
EARLIEST = datetime.min.replace(tzinfo=dt_timezone.utc) + timedelta(days=1)
LATEST = datetime.max.replace(tzinfo=dt_timezone.utc) - timedelta(days=1)


# Years 0002-9998 as written: then the time fits in UTC with a day to spare (CREATED_BEFORE_START_SLACK).
# The API schema states the same rule as a pattern, so a value it allows is never refused.
DATE_TIME_YEARS_PATTERN = r"^(000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"


class UTCDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601; naive values are UTC; years 1 and 9999 are refused (they may not fit in UTC)."""

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return None
        if not 2 <= value.year <= 9998:
            raise forms.ValidationError("date/time out of range: years 0002 to 9998")
        try:
            value = value.astimezone(dt_timezone.utc)
        except OverflowError:
            value = None
        if value is None or not EARLIEST <= value <= LATEST:  # room for CREATED_BEFORE_START_SLACK
            raise forms.ValidationError("date/time out of range")
        return value


class StartedAfterFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField

    def __init__(self, **kwargs) -> None:
        super().__init__(field_name="start_time", lookup_expr="gte", help_text=STARTED_HELP, **kwargs)


class StartedBeforeFilter(django_filters.IsoDateTimeFilter):
    """start_time < value, plus the implied bound on `created`.

    Without it PostgreSQL walks the newest-first index from today back to the
    requested time (it assumes matches are spread evenly); with it the walk starts
    near the requested time.
    """

    field_class = UTCDateTimeField

    def __init__(self, **kwargs) -> None:
        super().__init__(field_name="start_time", lookup_expr="lt", help_text=STARTED_HELP, **kwargs)

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(start_time__lt=value, created__lt=value + CREATED_BEFORE_START_SLACK)


class RunFilter(django_filters.FilterSet):
    """The filters flow runs and task runs share."""

    state = StateFilter(help_text="state types or names, comma-separated (FAILED, TimedOut, failed,cancelled)")
    started_after = StartedAfterFilter()
    started_before = StartedBeforeFilter()


class FlowRunFilter(RunFilter):
    flow = FlowNameFilter("flow_id", help_text="flow name, exact")
    tag = TagFilter("flow_run", help_text="runs carrying this tag")

    class Meta:
        model = FlowRun
        fields: list[str] = []


class TaskRunFilter(RunFilter):
    flow_run = django_filters.UUIDFilter(field_name="flow_run_id", help_text="flow run id")
    flow = FlowNameFilter("flow_run_id", help_text="flow name, exact")
    task_key = text("task_key", "task key, exact")
    name = text("task_name", "task name, exact (the @task name, not the run name)")
    tag = TagFilter("task_run", help_text="runs carrying this tag")

    class Meta:
        model = TaskRun
        fields: list[str] = []


class LogFilter(django_filters.FilterSet):
    flow_run = django_filters.UUIDFilter(field_name="flow_run_id", help_text="flow run id")
    task_run = django_filters.UUIDFilter(field_name="task_run_id", help_text="task run id")
    level = MinimumLevelFilter(help_text="minimum level: a number (30) or a name (WARNING)")
    q = MessageTextFilter(
        field_name="message", lookup_expr="icontains", max_length=MAX_SEARCH,
        help_text=f"text the message contains (case-insensitive, at most {MAX_SEARCH} characters)",
    )

    class Meta:
        model = Log
        fields: list[str] = []


# Free-text filters: an empty value means "no filter"; typed filters (ids, times, states, levels) need a value.
TEXT_FILTERS = (django_filters.CharFilter, TextFilter, MessageTextFilter, TagFilter, FlowNameFilter)
