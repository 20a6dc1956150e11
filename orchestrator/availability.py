"""Whether the services the server depends on answer: for /readyz and for 503s.

A request that cannot reach PostgreSQL (or its connection pool gives up) is the
server being unavailable, not broken: it is answered 503 with Retry-After, so
load balancers and the SDK (which retries 5xx and honours Retry-After) wait.
"""
from __future__ import annotations

import django.db
from django.conf import settings
from django.db import connection

RETRY_AFTER_SECONDS = 5  # what a 503 tells clients to wait; the SDK backs off at least this long


def unavailable_database_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the database cannot be reached", from Django, psycopg and its pool."""
    errors: list[type[BaseException]] = [django.db.OperationalError, django.db.InterfaceError]
    try:
        import psycopg

        errors += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:
        pass
    try:
        import psycopg_pool

        errors.append(psycopg_pool.PoolTimeout)
    except ImportError:
        pass
    return tuple(errors)


UNAVAILABLE_DATABASE_ERRORS = unavailable_database_errors()


def is_database_unavailable(exc: BaseException | None) -> bool:
    if exc is None or not isinstance(exc, UNAVAILABLE_DATABASE_ERRORS):
        return False
    # An OperationalError from SQLite's own checks (e.g. "no such table") is a bug, not an outage.
    text = str(exc).lower()
    return not ("no such table" in text or "no such column" in text or "syntax error" in text)


def database_problem() -> str | None:
    """None when a trivial query succeeds on the default database; otherwise why not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is "not ready"; the reason goes in the answer
        if connection.connection is not None and not connection.is_usable():
            connection.close()  # do not hand a broken connection to the next request on this thread
        return f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    return None


def redis_problem(timeout: float = 2.0) -> str | None:
    """None when REDIS_URL is unset or Redis answers PING; otherwise why not."""
    url = getattr(settings, "REDIS_URL", None)
    if not url:
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    except Exception as exc:  # any failure is "not ready"
        return f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    finally:
        client.close()
    return None
