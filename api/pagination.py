"""Cursor pagination orders, each matching an index so a page is an index range scan.

DRF's cursor positions on the first ordering field; the trailing fields only break
ties (DRF steps over equal positions with an offset).
"""
from __future__ import annotations

import re
from datetime import timezone

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination

from api.errors import bad_parameters
from api.list_limits import within_budget


class DateTimeCursor(CursorPagination):
    """A cursor positioned on a datetime column; a forged position is an invalid cursor, not a 500.

    A page ends early once its items reach the byte budget (api/list_limits.py).

    `page_size` is validated like a filter: a value that is not a positive integer is a 400
    naming it (DRF would silently use the default instead); a larger one than
    `max_page_size` is capped. A query parameter given more than once is a 400 (every
    parameter is single-valued).
    """

    def paginate_queryset(self, queryset, request, view=None):
        repeated = {name: ["given more than once"] for name, values in request.query_params.lists() if len(values) > 1}
        if repeated:
            raise bad_parameters(repeated)
        page = super().paginate_queryset(queryset, request, view)
        if not page:
            return page
        reverse = bool(self.cursor and self.cursor.reverse)
        keep = within_budget(page[::-1] if reverse else page)
        if keep == len(page):
            return page
        # Continue from the first item left out, as DRF continues from the first item past a full page.
        if reverse:
            self.page, left_out = page[len(page) - keep:], page[len(page) - keep - 1]
            self.has_previous = True
            self.previous_position = self._get_position_from_instance(left_out, self.ordering)
        else:
            self.page, left_out = page[:keep], page[keep]
            self.has_next = True
            self.next_position = self._get_position_from_instance(left_out, self.ordering)
        self.page_size = keep
        return self.page
    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not PAGE_SIZE.fullmatch(raw):
            raise bad_parameters({self.page_size_query_param: [f"must be a positive integer (at most {self.max_page_size} are used)"]})
        return self.max_page_size if len(raw) > 9 else min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = f"results per page, at most {self.max_page_size} (larger values are capped)"
        return parameters

    def decode_cursor(self, request) -> Cursor | None:
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        try:
            position = parse_datetime(cursor.position)
            if position is None:
                raise ValueError(cursor.position)
            if position.tzinfo is not None:
                position.astimezone(timezone.utc)  # what the database adapters do; overflows near year 1 and 9999
        except (ValueError, OverflowError):
            raise NotFound(self.invalid_cursor_message)
        return cursor


PAGE_SIZE = re.compile(r"[1-9][0-9]*")


class NewestFirst(DateTimeCursor):
    """Run lists: newest created first (indexes *_newest)."""

    ordering = ("-created", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class FlowRunTaskRuns(DateTimeCursor):
    """A flow run's task runs for its timeline: oldest first, big pages (index taskrun_flowrun_created)."""

    ordering = ("created", "id")
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 2000


class Timeline(DateTimeCursor):
    """State timelines and logs: oldest first by (timestamp, seq)."""

    ordering = ("timestamp", "seq", "id")
    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 1000


class RecentlySeen(DateTimeCursor):
    ordering = ("-last_seen", "name")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
