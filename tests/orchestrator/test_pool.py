"""The PostgreSQL connection pool (orchestrator/config.py) and the prepared ingestion statements."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection

from orchestrator.config import database_from_url
from orchestrator.ingest import ingest_batch
from tests.orchestrator.event_factory import completed_task_run, flow_run_created, new_id

URL = "postgresql://postgres@127.0.0.1:5432/orch"
SQLITE = Path("/tmp/unused.sqlite3")


def test_postgresql_is_pooled_by_default(monkeypatch):
    for name in ("DATABASE_POOL_MAX", "DATABASE_POOL_MIN", "DATABASE_POOL_TIMEOUT", "CONN_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)
    db = database_from_url(URL, SQLITE)
    pool = db["OPTIONS"]["pool"]
    assert (pool["min_size"], pool["max_size"], pool["timeout"]) == (2, 8, 10.0)
    assert db["CONN_MAX_AGE"] == 0  # Django refuses persistent connections with a pool


def test_pool_size_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_MAX", "3")
    monkeypatch.setenv("DATABASE_POOL_MIN", "5")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT", "2.5")
    pool = database_from_url(URL, SQLITE)["OPTIONS"]["pool"]
    assert (pool["min_size"], pool["max_size"], pool["timeout"]) == (3, 3, 2.5)  # min never above max


def test_pool_max_0_turns_pooling_off(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_MAX", "0")
    monkeypatch.setenv("CONN_MAX_AGE", "30")
    db = database_from_url(URL + "?sslmode=disable", SQLITE)
    assert db["OPTIONS"] == {"sslmode": "disable"}
    assert db["CONN_MAX_AGE"] == 30


def test_sqlite_has_no_pool():
    assert "pool" not in database_from_url("sqlite:///x.sqlite3", SQLITE)["OPTIONS"]


def test_sqlite_connections_persist_on_the_pooled_request_threads(monkeypatch):
    monkeypatch.delenv("CONN_MAX_AGE", raising=False)
    assert database_from_url(None, SQLITE)["CONN_MAX_AGE"] == 60
    monkeypatch.setenv("CONN_MAX_AGE", "0")  # one connection per request, as before
    assert database_from_url("sqlite:///x.sqlite3", SQLITE)["CONN_MAX_AGE"] == 0


postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL")


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_new_thread_reuses_a_pooled_connection():
    if connection.pool is None:
        pytest.skip("pooling is off (DATABASE_POOL_MAX=0)")
    backends: list[int] = []
    existing: set[int] = set()

    def one_request() -> None:  # what Django does per request under ASGI: a new thread, closed at the end
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backends.append(cursor.fetchone()[0])
        connection.close()  # back to the pool

    def run_in_new_thread(fn) -> None:
        thread = threading.Thread(target=fn)
        thread.start()
        thread.join()

    def backends_of_this_database() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            existing.update(pid for (pid,) in cursor.fetchall())
        connection.close()

    run_in_new_thread(one_request)  # the pool is open and filled
    run_in_new_thread(backends_of_this_database)
    for _ in range(3):
        run_in_new_thread(one_request)
    assert len(backends) == 4
    # No new PostgreSQL backend per request. (Not "the same backend each time": the pool hands
    # its idle connections out in turn, so earlier tests that opened more make the pids vary.)
    assert set(backends[1:]) <= existing


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db
def test_ingestion_statements_are_prepared_once_per_connection():
    def batch() -> list[dict]:
        fr = new_id()
        return [flow_run_created(fr), *completed_task_run(fr)[1]]

    ingest_batch(batch())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO \"orchestrator_%%'")
        prepared = cursor.fetchone()[0]
    assert prepared >= 3
    ingest_batch(batch())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO \"orchestrator_%%'")
        assert cursor.fetchone()[0] == prepared  # the same statements again, not new ones
    assert connection.connection.prepare_threshold is None  # the rest of Django: as configured (nothing prepared)
