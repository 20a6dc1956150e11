"""The read API's filters: the shared definitions (orchestrator.filters) plus how the API reports errors."""
from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from api.errors import bad_parameters
from orchestrator.filters import FlowRunFilter, LevelChoice, LogFilter, MinimumLevelFilter, StateFilter, TaskRunFilter

# Both take comma lists or names, which the schema shows as plain strings.
extend_schema_field(OpenApiTypes.STR)(StateFilter)
extend_schema_field(OpenApiTypes.STR)(MinimumLevelFilter)

__all__ = ["FilterBackend", "FlowRunFilter", "LevelChoice", "LogFilter", "TaskRunFilter"]


class FilterBackend(DjangoFilterBackend):
    """django-filter, with errors that name the query parameter in `error` (api.errors)."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise bad_parameters({name: list(messages) for name, messages in filterset.errors.items()})
        return filterset.qs
