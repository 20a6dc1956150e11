"""Benchmark (not a test): dashboard page times at scale, and live-update latency.

    .venv/bin/python bench/dashboard.py [--scale 1.0] [--requests 40] [--updates 30] [--no-live]

Creates a fresh database `orch_dashbench_<pid>` next to $BENCH_POSTGRES_URL's
(default postgresql://postgres@127.0.0.1:5432/postgres) and seeds it in SQL
(generate_series, indexes rebuilt after): 10,000 flow runs, 1,000,000 task runs
(about 2% Failed/TimedOut, 0.25% Crashed), 2,000,000 log lines, times --scale; one
flow run holds 2,000 task runs. Starts one Daphne with REDIS_URL ($BENCH_REDIS_URL,
default redis://127.0.0.1:6379/0) as a deployment runs it, signs in, and measures:

- pages: p50/p95 of the request round trip on loopback (server time plus well
  under a millisecond) for the runs list unfiltered and with each filter, the
  flow run page of the 2,000-task run, the failed-tasks page, a task run page
  and a log search;
- live: from `POST /api/events/` returning to the HTML fragment arriving at each
  connected websocket client of that flow run's page, with 1 and 20 clients.

Floors measured in the same run: a `SELECT 1` round trip to PostgreSQL, a trivial
page (the login form), and a raw channels-redis send -> receive. The comparison for live
updates, in the same run: a second Daphne (bench/settings_whole_gantt_updates.py) whose every
update carries the whole Gantt page, as before changed rows were sent alone.
Targets: every page < 150 ms p95; live update < 250 ms p95.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.ingest import database_url, free_port, percentile, print_table, wait_for_port  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PYTHON = sys.executable
BIG_FLOW_TASKS = 2_000
FLOWS = 20
PAGES_TARGET_MS, LIVE_TARGET_MS = 150, 250


# --- seeding, all in SQL ---

RUN_COLUMNS = ("id, name, parameters, tags, run_count, state_type, state_name, state_message, state_timestamp, "
               "state_seq, start_time, end_time, created, has_created_event, parent_task_run_id, updated")


def seed(url: str, flow_runs: int, task_runs: int) -> float:
    """Flow runs fr0..frN (fr0 holds the first 2,000 task runs), two log lines per task run."""
    started = time.perf_counter()
    span = 30 * 86400.0 / flow_runs  # seconds between flow runs over 30 days
    with psycopg.connect(url, autocommit=True) as conn:
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('orchestrator_taskrun', 'orchestrator_flowrun', 'orchestrator_log', 'orchestrator_runtag') "
            "AND indexdef NOT LIKE '%UNIQUE%'"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        give_required_columns_defaults(conn)
        conn.execute("INSERT INTO orchestrator_flow (name, created) SELECT 'flow-' || i, now() "
                     f"FROM generate_series(0, {FLOWS - 1}) i")
        conn.execute(f"""
            INSERT INTO orchestrator_flowrun ({RUN_COLUMNS}, flow_id, parent_flow_run_id, version)
            SELECT md5('fr' || i)::uuid, 'run-' || i, '{{"day": "2026-11-26"}}', tags, 1, st, sn, '',
                   t + interval '30 s', 3, t, CASE WHEN st = 'RUNNING' THEN NULL ELSE t + interval '30 s' END,
                   t, true, NULL, t, f.id, NULL, ''
            FROM generate_series(0, {flow_runs - 1}) i
            CROSS JOIN LATERAL (SELECT timestamptz '2026-11-01' + i * {span} * interval '1 second' AS t,
                CASE WHEN i % 3 = 0 THEN '["nightly"]'::jsonb ELSE '[]'::jsonb END AS tags,
                CASE WHEN i = 0 OR i % 20 = 5 THEN 'FAILED' WHEN i % 97 = 3 THEN 'CRASHED'
                     WHEN i % 50 = 1 THEN 'RUNNING' ELSE 'COMPLETED' END AS st) x
            CROSS JOIN LATERAL (SELECT CASE st WHEN 'FAILED' THEN 'Failed' WHEN 'CRASHED' THEN 'Crashed'
                     WHEN 'RUNNING' THEN 'Running' ELSE 'Completed' END AS sn) y
            JOIN orchestrator_flow f ON f.name = 'flow-' || (i % {FLOWS})
        """)
        conn.execute("""
            INSERT INTO orchestrator_runtag (tag, flow_run_id, task_run_id)
            SELECT 'nightly', id, NULL FROM orchestrator_flowrun WHERE tags @> '["nightly"]'
        """)
        task_run_of = f"""
            FROM generate_series(0, {task_runs - 1}) i
            CROSS JOIN LATERAL (SELECT CASE WHEN i < {BIG_FLOW_TASKS} THEN 0
                ELSE 1 + (i - {BIG_FLOW_TASKS}) % {max(1, flow_runs - 1)} END AS fr) a
            CROSS JOIN LATERAL (SELECT timestamptz '2026-11-01' + (fr * {span} + (i % 100) * 0.2)
                * interval '1 second' AS t) b
        """
        conn.execute(f"""
            INSERT INTO orchestrator_taskrun ({RUN_COLUMNS}, flow_run_id, task_key, task_name, upstream_task_run_ids)
            SELECT md5('tr' || i)::uuid, 'task-' || (i % 50) || '-' || i, '{{"chunk": 7}}', '[]', 1, st,
                   CASE WHEN st = 'FAILED' AND i % 150 = 7 THEN 'TimedOut' WHEN st = 'FAILED' THEN 'Failed'
                        WHEN st = 'CRASHED' THEN 'Crashed' ELSE 'Completed' END,
                   CASE WHEN st = 'COMPLETED' THEN '' ELSE 'ValueError: chunk 7 is bad' END,
                   t + interval '1 s', 3, t, t + interval '1 s', t, true, NULL, t + interval '1 s',
                   md5('fr' || fr)::uuid, 'task-' || (i % 50) || '-5f3a9c1e', 'task-' || (i % 50), '[]'
            {task_run_of}
            CROSS JOIN LATERAL (SELECT CASE WHEN i % 50 = 7 THEN 'FAILED' WHEN i % 400 = 9 THEN 'CRASHED'
                ELSE 'COMPLETED' END AS st) c
        """)
        conn.execute(f"""
            INSERT INTO orchestrator_log (id, flow_run_id, task_run_id, level, logger, message, timestamp, seq)
            SELECT md5('log' || i || '-' || n)::uuid, md5('fr' || fr)::uuid, md5('tr' || i)::uuid,
                   CASE WHEN n = 0 THEN 20 ELSE 30 END, 'sdk.task_runs',
                   CASE WHEN n = 0 THEN 'processed chunk ' || i || ': 1000 rows in 0.2s'
                        ELSE 'slow storage for chunk ' || i || CASE WHEN i % 1000 = 7 THEN ' needle' ELSE '' END END,
                   t + n * interval '0.1 s', n
            {task_run_of}
            CROSS JOIN generate_series(0, 1) n
        """)
        # The state timelines of the pages measured: the big flow run, its task runs.
        conn.execute("""
            INSERT INTO orchestrator_flowrunstate (id, flow_run_id, type, name, message, timestamp, seq, run_count)
            SELECT md5('frs' || n)::uuid, md5('fr0')::uuid, s, initcap(s), '', timestamptz '2026-11-01' + n * interval '1 s', n, 1
            FROM unnest(ARRAY['PENDING', 'RUNNING', 'FAILED']) WITH ORDINALITY AS u(s, n)
        """)
        conn.execute(f"""
            INSERT INTO orchestrator_taskrunstate (id, task_run_id, type, name, message, timestamp, seq, run_count, error)
            SELECT md5('trs' || i || '-' || n)::uuid, md5('tr' || i)::uuid, s, initcap(s), '',
                   timestamptz '2026-11-01' + (i * 0.2 + n) * interval '1 s', n, 1,
                   CASE WHEN s = 'FAILED' THEN jsonb_build_object('type', 'ValueError', 'message', 'chunk 7 is bad',
                        'traceback', 'Traceback (most recent call last):\n  File "etl.py", line 12, in transform\n'
                        || 'ValueError: chunk 7 is bad') END
            FROM generate_series(0, {min(task_runs, BIG_FLOW_TASKS) - 1}) i
            CROSS JOIN unnest(CASE WHEN i % 50 = 7 THEN ARRAY['PENDING', 'RUNNING', 'FAILED']
                              ELSE ARRAY['PENDING', 'RUNNING', 'COMPLETED'] END) WITH ORDINALITY AS u(s, n)
        """)
        conn.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            conn.execute(definition)
        for table in ("flowrun", "taskrun", "log", "runtag", "taskrunstate", "flowrunstate"):
            conn.execute(f"VACUUM ANALYZE orchestrator_{table}")
    return time.perf_counter() - started


SQL_DEFAULTS = {"character varying": "''", "text": "''", "integer": "0", "bigint": "0", "smallint": "0",
                "boolean": "false", "jsonb": "'{}'", "timestamp with time zone": "now()"}


def give_required_columns_defaults(conn) -> None:
    """Columns the seed does not name (added by later migrations; Django's defaults are not the
    database's) get a database default in this throwaway database, so the seed keeps working."""
    rows = conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name LIKE 'orchestrator_%%' AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO'"
    ).fetchall()
    for table, column, data_type in rows:
        if data_type in SQL_DEFAULTS:
            conn.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT {SQL_DEFAULTS[data_type]}')


def run_id(prefix: str, i: int) -> str:
    import hashlib

    return str(uuid.UUID(hashlib.md5(f"{prefix}{i}".encode()).hexdigest()))


# --- a minimal websocket client (RFC 6455): enough to read the dashboard's text frames ---


class LiveClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.reading: asyncio.Task | None = None

    async def next_text(self, timeout: float) -> str | None:
        """The next text message, or None after `timeout` s; a read in progress is kept, never
        cancelled halfway through a frame (a large refresh can take a while to arrive)."""
        if self.reading is None:
            self.reading = asyncio.create_task(self.text())
        done, _ = await asyncio.wait({self.reading}, timeout=timeout)
        if not done:
            return None
        task, self.reading = self.reading, None
        return task.result()

    @classmethod
    async def connect(cls, port: int, path: str, cookie: str) -> "LiveClient":
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit(f"websocket refused: {head[:200]!r}")
        return cls(reader, writer)

    def send(self, opcode: int, payload: bytes = b"") -> None:
        mask = os.urandom(4)
        assert len(payload) < 126
        self.writer.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask
                          + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    async def text(self) -> str:
        """The next text message (answering pings on the way)."""
        parts: list[bytes] = []
        while True:
            b1, b2 = await self.reader.readexactly(2)
            size = b2 & 0x7F
            if size == 126:
                size = int.from_bytes(await self.reader.readexactly(2), "big")
            elif size == 127:
                size = int.from_bytes(await self.reader.readexactly(8), "big")
            payload = await self.reader.readexactly(size)
            opcode = b1 & 0x0F
            if opcode == 0x9:
                self.send(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError(f"server closed the websocket: {payload[:2].hex()}")
            parts.append(payload)
            if b1 & 0x80:
                return b"".join(parts).decode()

    def close(self) -> None:
        self.writer.close()


# --- measurements ---


def timed(client: httpx.Client, path: str, repeat: int) -> tuple[float, float, int]:
    response = client.get(path)
    for _ in range(2):
        client.get(path)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50), percentile(times, 95), response.status_code


def select_one_floor(url: str, repeat: int = 200) -> tuple[float, float]:
    with psycopg.connect(url) as conn:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50), percentile(times, 95)


async def channel_layer_floor(repeat: int = 100) -> tuple[float, float]:
    """A raw channels-redis group_send -> receive round trip, as the server's publish and a socket see it."""
    from channels_redis.core import RedisChannelLayer

    from orchestrator.config import channel_redis_host

    layer = RedisChannelLayer(hosts=[channel_redis_host(REDIS_URL)], prefix=f"dashbench{os.getpid()}")
    channel = await layer.new_channel()
    await layer.group_add("floor", channel)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await layer.group_send("floor", {"type": "x"})
        await layer.receive(channel)
        times.append((time.perf_counter() - started) * 1000)
    await layer.group_discard("floor", channel)
    await layer.flush()
    return percentile(times, 50), percentile(times, 95)


async def live_latency(port: int, cookie: str, ingest_key: str, flow_run_id: str, task_run_ids: list[str],
                       clients: int, updates: int) -> tuple[float, float, int]:
    """ms from POST /api/events/ returning to each client's fragment; (p50, p95, frames missed)."""
    page = f"/ws/live/?page=/flow-runs/{flow_run_id}/"
    sockets = [await LiveClient.connect(port, page, cookie) for _ in range(clients)]
    for socket in sockets:  # the refresh each gets on connect: wait for it, then for quiet
        await socket.next_text(60)
        while await socket.next_text(1.0) is not None:
            pass
    latencies: list[float] = []
    missed = 0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60,
                                 headers={"Authorization": f"Bearer {ingest_key}"}) as api:
        for n in range(updates):
            task_run_id = task_run_ids[n % len(task_run_ids)]
            event = {"id": str(uuid.uuid4()), "type": "task_run.state", "occurred": f"2026-12-01T00:00:{n % 60:02d}+00:00",
                     "seq": 100 + n, "task_run_id": task_run_id, "flow_run_id": flow_run_id, "run_count": 2,
                     "state_type": "RUNNING", "state_name": "Retrying", "state_message": None}
            arrivals: list[float] = []

            async def arrival(socket: LiveClient) -> None:
                if await socket.next_text(10) is not None:
                    arrivals.append(time.perf_counter())

            waiting = asyncio.gather(*(arrival(s) for s in sockets))
            response = await api.post("/api/events/", json={"events": [event]})
            returned = time.perf_counter()
            response.raise_for_status()
            await waiting
            latencies += [(t - returned) * 1000 for t in arrivals]
            missed += len(sockets) - len(arrivals)
            for socket in sockets:  # what a coalesced push may still hold; and the socket's push window
                while await socket.next_text(0.4) is not None:
                    pass
    for socket in sockets:
        socket.close()
    if not latencies:
        return float("nan"), float("nan"), missed
    return percentile(latencies, 50), percentile(latencies, 95), missed


# Measurements in this order; the arrival times of frames are taken as each task completes, so
# with 20 clients later ones include the wait for earlier ones (a few µs each on one loop).


def sign_in(env: dict) -> tuple[str, str, str]:
    """A staff user's session cookie, an ingest key and a read key, made in-process."""
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "REDIS_URL")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connections
    from django.test import Client

    from api.models import APIKey

    user = get_user_model().objects.create_user("bench", password="bench-password-1", is_staff=True)
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    _, ingest_key = APIKey.issue("dashbench-ingest", "ingest")
    _, read_key = APIKey.issue("dashbench-read", "read")
    connections.close_all()
    return cookie, ingest_key, read_key


def start_daphne(port: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen([str(Path(PYTHON).parent / "daphne"), "-v", "0", "-b", "127.0.0.1", "-p", str(port),
                               "orchestrator.asgi:application"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "ab"))
    wait_for_port(port, server)
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 10k flow runs / 1M task runs / 2M logs")
    parser.add_argument("--requests", type=int, default=40, help="requests per page measured")
    parser.add_argument("--updates", type=int, default=30, help="live updates per client count")
    parser.add_argument("--no-live", action="store_true", help="page times only (skip the live-update latencies)")
    args = parser.parse_args()
    flow_runs = max(2, int(10_000 * args.scale))
    task_runs = max(BIG_FLOW_TASKS + flow_runs, int(1_000_000 * args.scale))

    name = f"orch_dashbench_{os.getpid()}"
    url = database_url(name)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "DEBUG": "0", "LOG_LEVEL": "WARNING",
           "PYTHONUNBUFFERED": "1"}
    server = None
    rows: list[tuple[str, str, str]] = []

    def row(what: str, result: str, notes: str) -> None:
        rows.append((what, result, notes))
        print(f"  ... {what}: {result} ({notes})", file=sys.stderr, flush=True)

    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        seconds = seed(url, flow_runs, task_runs)
        row(f"seed {flow_runs:,} flow runs, {task_runs:,} task runs, {2 * task_runs:,} logs", f"{seconds:,.1f} s",
            "setup (generate_series, indexes rebuilt after), not a target")
        cookie, ingest_key, _ = sign_in(env)
        port = free_port()
        server = start_daphne(port, env)

        p50, p95 = select_one_floor(url)
        row("floor: SELECT 1 round trip", f"p50 {p50:.2f} ms, p95 {p95:.2f} ms", "psycopg, one kept connection")
        big_flow, failed_task = run_id("fr", 0), run_id("tr", 7)
        pages = [
            ("floor: GET /login/ (a trivial page)", "/login/"),
            ("runs list /", "/"),
            ("runs list, state=FAILED", "/?state=FAILED"),
            ("runs list, flow=flow-3", "/?flow=flow-3"),
            ("runs list, started in one day", "/?started_after=2026-11-10T00:00:00Z&started_before=2026-11-11T00:00:00Z"),
            ("runs list, tag=nightly", "/?tag=nightly"),
            ("runs list, all filters", "/?state=COMPLETED&flow=flow-3&tag=nightly&started_after=2026-11-05T00:00:00Z"),
            (f"flow run page, {BIG_FLOW_TASKS:,} task runs", f"/flow-runs/{big_flow}/"),
            ("failed tasks /task-runs/?state=FAILED,CRASHED", "/task-runs/?state=FAILED,CRASHED"),
            ("task runs, unfiltered /task-runs/", "/task-runs/"),
            ("'All matching' count of the failed tasks (asked by the page once loaded)",
             "/task-runs/count/?state=FAILED,CRASHED"),
            ("'All matching' count of every task run (asked by the page once loaded)", "/task-runs/count/"),
            ("task run page (failed, traceback)", f"/task-runs/{failed_task}/"),
            ("log search, flow run page ?q=needle", f"/flow-runs/{big_flow}/?q=needle"),
            ("log search, GET /api/logs/?q=needle", "/api/logs/?q=needle"),
        ]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Cookie": cookie}, timeout=120) as client:
            for label, path in pages:
                p50, p95, status = timed(client, path, args.requests)
                verdict = "" if label.startswith("floor") else (" ok" if p95 < PAGES_TARGET_MS else " OVER TARGET")
                notes = f"{args.requests} requests; target p95 < {PAGES_TARGET_MS} ms;{verdict}"
                if status != 200:
                    notes = f"HTTP {status}: page not there yet, not a measurement"
                row(label, f"p50 {p50:.1f} ms, p95 {p95:.1f} ms", notes)

        if args.no_live:
            print_table(rows)
            return 0
        p50, p95 = asyncio.run(channel_layer_floor())
        row("floor: channels-redis group_send -> receive", f"p50 {p50:.2f} ms, p95 {p95:.2f} ms", "raw layer, no server")
        task_ids = [run_id("tr", i) for i in range(0, BIG_FLOW_TASKS, 97)]
        for clients in (1, 20):
            p50, p95, missed = asyncio.run(live_latency(port, cookie, ingest_key, big_flow, task_ids, clients, args.updates))
            verdict = "ok" if p95 < LIVE_TARGET_MS else "OVER TARGET"
            row(f"live: POST returned -> fragment, {clients} client{'s' if clients > 1 else ''}",
                f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
                f"{args.updates} updates x {clients}; {missed} frames missed; target p95 < {LIVE_TARGET_MS} ms; {verdict}")
        server.terminate()
        server.wait(timeout=10)
        port = free_port()
        server = start_daphne(port, {**env, "DJANGO_SETTINGS_MODULE": "bench.settings_whole_gantt_updates",
                                     "PYTHONPATH": str(ROOT)})
        p50, p95, missed = asyncio.run(live_latency(port, cookie, ingest_key, big_flow, task_ids, 20, args.updates))
        row("comparison: the same, 20 clients, whole Gantt in every push", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
            f"{args.updates} updates x 20; {missed} frames missed; the way before changed rows went alone")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
