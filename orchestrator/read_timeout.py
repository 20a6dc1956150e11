"""A time limit on every database statement a read request (GET, HEAD) runs.

A search or filter no index serves must not hold a connection and a core for
minutes. On PostgreSQL the request's connection gets `statement_timeout`; on SQLite
a progress handler interrupts a statement past its deadline. A statement cut off
answers 503 with a JSON body that says so (API) or a short page, never a 500.
Writes (ingestion) are not limited: they must finish or roll back on their own.
"""
from __future__ import annotations

import json
import time

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection
from django.http import HttpResponse

READ_METHODS = frozenset({"GET", "HEAD"})
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cut off by statement_timeout


def read_timeout_ms() -> int:
    return int(getattr(settings, "ORCHESTRATOR_READ_STATEMENT_TIMEOUT_MS", 10_000))


class ReadStatementTimeout:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        timeout = read_timeout_ms()
        if request.method not in READ_METHODS or timeout <= 0:
            return self.get_response(request)
        limit = self.start(timeout)
        try:
            return self.get_response(request)
        finally:
            limit()

    @staticmethod
    def start(timeout_ms: int):
        """Limit the connection's statements; return what lifts the limit."""
        connection.ensure_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{timeout_ms}ms"])

            def lift() -> None:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("RESET statement_timeout")
                except DatabaseError:
                    # Never hand a connection that still carries the limit to the next (write) request.
                    if connection.connection is not None:
                        connection.connection.close()
            return lift
        if connection.vendor == "sqlite":
            deadline = time.monotonic() + timeout_ms / 1000
            raw = connection.connection
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            return lambda: raw.set_progress_handler(None, 0)
        return lambda: None

    def process_exception(self, request, exception):
        if not is_statement_timeout(exception):
            return None
        message = f"the query took longer than {read_timeout_ms()} ms and was stopped; narrow the filters"
        if request.path.startswith("/api/"):
            return HttpResponse(json.dumps({"error": message}), status=503, content_type="application/json")
        return HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")


def is_statement_timeout(exception: BaseException) -> bool:
    if not isinstance(exception, OperationalError):
        return False
    cause = exception.__cause__
    return getattr(cause, "sqlstate", None) == QUERY_CANCELED or "interrupted" in str(exception)
