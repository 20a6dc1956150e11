"""JSON columns that never break a read: a stored value that cannot be decoded reads as UNREADABLE.

Ingestion caps nesting depth (orchestrator/event_fields.py), but rows stored before
the cap, or written by other means, may nest deeper than Python's recursion limit
allows at the depth where Django decodes them. One such row must show as
"unreadable" on its own page, not turn every list that contains it into a 500.
"""
from __future__ import annotations

import logging

from django.db import models

log = logging.getLogger(__name__)


class Unreadable(str):
    """The value of a JSON column that could not be decoded; renders as the text "unreadable"."""

    __slots__ = ()


UNREADABLE = Unreadable("unreadable")


class StoredJSONField(models.JSONField):
    """A JSONField whose undecodable values read as UNREADABLE instead of raising."""

    def from_db_value(self, value, expression, connection):
        try:
            return super().from_db_value(value, expression, connection)
        except (RecursionError, MemoryError, ValueError, TypeError) as exc:
            log.warning("unreadable JSON in %s: %s", self, type(exc).__name__)
            return UNREADABLE
