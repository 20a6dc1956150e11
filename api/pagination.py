"""Cursor pagination orders, each matching an index so a page is an index range scan.

DRF's cursor positions on the first ordering field; the trailing fields only break
ties (DRF steps over equal positions with an offset).
"""
from __future__ import annotations

from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    """Run lists: newest created first (indexes *_newest)."""

    ordering = ("-created", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class FlowRunTaskRuns(CursorPagination):
    """A flow run's task runs for its timeline: oldest first, big pages (index taskrun_flowrun_created)."""

    ordering = ("created", "id")
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 2000


class Timeline(CursorPagination):
    """State timelines and logs: oldest first by (timestamp, seq)."""

    ordering = ("timestamp", "seq", "id")
    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 1000


class RecentlySeen(CursorPagination):
    ordering = ("-last_seen", "name")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
