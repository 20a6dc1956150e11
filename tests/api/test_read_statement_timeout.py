"""Read requests: a statement past ORCHESTRATOR_READ_STATEMENT_TIMEOUT_MS is stopped and answered 503, not 500."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory

from orchestrator.read_timeout import ReadStatementTimeout


def slow_query(request):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_sleep(5)")
        else:  # a statement that runs for seconds: a large recursive count
            cursor.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
                           "SELECT count(*) FROM n")
    raise AssertionError("the statement was not stopped")


def through_middleware(method: str, path: str, view):
    middleware = ReadStatementTimeout(view)
    request = RequestFactory().generic(method, path)
    try:
        return middleware(request)
    except Exception as exc:  # what Django's handler would do: ask the middleware for a response
        response = middleware.process_exception(request, exc)
        if response is None:
            raise
        return response


@pytest.mark.django_db(transaction=True)
def test_a_slow_read_statement_is_stopped_with_503(settings):
    settings.ORCHESTRATOR_READ_STATEMENT_TIMEOUT_MS = 200
    response = through_middleware("GET", "/api/logs/", slow_query)
    assert response.status_code == 503
    assert b"took longer than 200 ms" in response.content


@pytest.mark.django_db(transaction=True)
def test_the_limit_is_lifted_after_the_request(settings):
    settings.ORCHESTRATOR_READ_STATEMENT_TIMEOUT_MS = 200
    through_middleware("GET", "/", lambda request: None)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"


@pytest.mark.django_db(transaction=True)
def test_writes_are_not_limited(settings):
    settings.ORCHESTRATOR_READ_STATEMENT_TIMEOUT_MS = 200

    def check(request):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                assert cursor.fetchone()[0] == "0"
        return "ok"

    assert through_middleware("POST", "/api/events/", check) == "ok"
