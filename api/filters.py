"""The read API's filters: the shared definitions (orchestrator.filters) plus how the API documents them
and reports errors."""
from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from api.errors import bad_parameters
from orchestrator.filters import (
    DATE_TIME_YEARS_PATTERN,
    LEVEL_PATTERN,
    MAX_SEARCH,
    MAX_TEXT,
    STARTED_HELP,
    STATE_PATTERN,
    TEXT_FILTERS,
    FlowNameFilter,
    FlowRunFilter,
    LevelChoice,
    LogFilter,
    MessageTextFilter,
    MinimumLevelFilter,
    StartedAfterFilter,
    StartedBeforeFilter,
    StateFilter,
    TagFilter,
    TaskRunFilter,
    TextFilter,
)

__all__ = ["FilterBackend", "FlowRunFilter", "LevelChoice", "LogFilter", "TaskRunFilter"]


def text_schema(max_length: int) -> dict:
    """Free text as the schema states it: bounded, and without NUL (which the form fields refuse)."""
    return {"type": "string", "maxLength": max_length, "pattern": "^[^\\x00]*$"}


# The schema shows the same patterns the filters parse with.
extend_schema_field({"type": "string", "pattern": STATE_PATTERN, "example": "FAILED,Crashed"})(StateFilter)
extend_schema_field({"type": "string", "pattern": LEVEL_PATTERN, "example": "WARNING"})(MinimumLevelFilter)
for _text_filter in (TextFilter, TagFilter, FlowNameFilter):
    extend_schema_field(text_schema(MAX_TEXT))(_text_filter)
extend_schema_field(text_schema(MAX_SEARCH))(MessageTextFilter)
for _time_filter in (StartedAfterFilter, StartedBeforeFilter):
    extend_schema_field({"type": "string", "format": "date-time", "pattern": DATE_TIME_YEARS_PATTERN,
                         "description": STARTED_HELP + "; years 0002 to 9998"})(_time_filter)


class FilterBackend(DjangoFilterBackend):
    """django-filter, with errors that name the query parameter in `error` (api.errors).

    A typed filter (id, time, state, level) given with an empty value is a 400, as the
    schema says, rather than silently no filter; free-text filters may be empty.
    """

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        empty_typed = {
            name: ["must not be empty"]
            for name, filter_ in filterset.filters.items()
            if request.query_params.get(name, None) == "" and type(filter_) not in TEXT_FILTERS
        }
        if empty_typed:
            raise bad_parameters(empty_typed)
        if not filterset.is_valid():
            raise bad_parameters({name: list(messages) for name, messages in filterset.errors.items()})
        return filterset.qs
