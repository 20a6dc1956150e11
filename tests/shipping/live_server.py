"""A real server for tests and benchmarks: Daphne in a subprocess, on a fresh database.

The database is a temporary SQLite file, or, when DATABASE_URL points at
PostgreSQL, a fresh database `orch_ship_<pid>_<n>` created (and dropped) here.
What was stored is read straight from that database (sqlite3 / psycopg), so
callers do not depend on the read API.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, Iterator
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# The tables an event lands in, and the event field that is the row's id.
TABLES = {
    "flow_run.created": ("orchestrator_flowrun", "flow_run_id"),
    "task_run.created": ("orchestrator_taskrun", "task_run_id"),
    "flow_run.state": ("orchestrator_flowrunstate", "id"),
    "task_run.state": ("orchestrator_taskrunstate", "id"),
    "log": ("orchestrator_log", "id"),
}
_counter = iter(range(1, 1_000_000))


def wait_until(condition, timeout: float, interval: float = 0.05, message: str = "condition"):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expected_rows(events: list[dict]) -> dict[str, set[str]]:
    """What the database must hold for these events: table → set of hex ids."""
    rows: dict[str, set[str]] = {table: set() for table, _ in TABLES.values()}
    for event in events:
        if event.get("type") in TABLES:
            table, field = TABLES[event["type"]]
            rows[table].add(uuid.UUID(str(event[field])).hex)
            if event["type"].endswith(".created") and "state_type" in event:  # its initial state: a timeline row
                rows[TABLES[event["type"].replace(".created", ".state")][0]].add(uuid.UUID(event["id"]).hex)
    return rows


class Database:
    """Direct access to the server's database, for counting what ingestion stored."""

    def __init__(self, url: str | None, sqlite_path: Path | None) -> None:
        self.url = url
        self.sqlite_path = sqlite_path

    def _query(self, sql: str) -> list[tuple]:
        if self.sqlite_path is not None:
            conn = sqlite3.connect(self.sqlite_path, timeout=30, isolation_level=None)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def ids(self, table: str) -> set[str]:
        return {uuid.UUID(str(row[0])).hex for row in self._query(f"SELECT id FROM {table}")}

    def rows(self) -> dict[str, set[str]]:
        return {table: self.ids(table) for table, _ in TABLES.values()}

    def count(self, table: str) -> int:
        return self._query(f"SELECT COUNT(*) FROM {table}")[0][0]

    def holds(self, events: list[dict]) -> bool:
        """True when every run, state and log of `events` is stored (and nothing else)."""
        return self.rows() == expected_rows(events)

    def assert_holds(self, events: list[dict]) -> None:
        """Every run, state and log of `events` is stored exactly once, and nothing else is."""
        stored, expected = self.rows(), expected_rows(events)
        problems = []
        for table, ids in expected.items():
            missing, extra = ids - stored[table], stored[table] - ids
            if missing or extra:
                problems.append(f"{table}: {len(ids)} expected, {len(missing)} missing, {len(extra)} unexpected")
        assert not problems, "; ".join(problems)

    def clear(self) -> None:
        if self.sqlite_path is not None:
            names = [r[0] for r in self._query("SELECT name FROM sqlite_master WHERE type='table'")]
        else:
            names = [r[0] for r in self._query("SELECT tablename FROM pg_tables WHERE schemaname='public'")]
        names = [n for n in names if n.startswith("orchestrator_")]
        if self.sqlite_path is None:
            self._query(f"TRUNCATE {', '.join(names)} CASCADE")
            return
        for name in names:
            self._query(f"DELETE FROM {name}")


class Server:
    """Daphne on a fixed loopback port; can be killed and started again on the same port."""

    def __init__(self, workdir: Path, database_url: str, db: Database) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
        self.db = db
        self.key = ""
        self.proc: subprocess.Popen | None = None
        self.log_path = workdir / "daphne.log"

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        if out.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.port), "orchestrator.asgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        import httpx

        def answers() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                httpx.get(f"{self.url}/events/", timeout=5.0)  # a server whose database is down answers in ~2 s
                return True
            except httpx.HTTPError:
                return False

        wait_until(answers, timeout, interval=0.1, message=f"daphne on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def fresh_database(workdir: Path) -> tuple[str, Database, Callable[[], None]]:
    base = os.environ.get("DATABASE_URL", "")
    if urlparse(base).scheme not in ("postgres", "postgresql"):
        path = workdir / "db.sqlite3"
        return f"sqlite:///{path}", Database(None, path), lambda: None
    import psycopg

    name = f"orch_ship_{os.getpid()}_{next(_counter)}"
    admin_url = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, Database(url, None), drop




@contextmanager
def running_server() -> Iterator[Server]:
    """Migrate a fresh database, issue an ingest key, start Daphne; stop and drop it all after."""
    workdir = Path(tempfile.mkdtemp(prefix="orch-ship-"))
    database_url, db, drop = fresh_database(workdir)
    server = Server(workdir, database_url, db)
    try:
        server.manage("migrate", "--noinput")
        server.key = server.manage("createapikey", "shipping-tests", "--scope", "ingest").strip().splitlines()[-1]
        server.start()
        yield server
    finally:
        server.kill()
        drop()
        shutil.rmtree(workdir, ignore_errors=True)
