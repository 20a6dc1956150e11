"""Benchmark (not a test): ingestion throughput through the real HTTP endpoint,
and list-query latency with 1,000,000 task runs, on PostgreSQL.

    .venv/bin/python bench/ingest.py [--runs 5] [--events 50000] [--task-runs 1000000]

Creates a fresh database `orch_bench_<pid>` next to $BENCH_POSTGRES_URL's (default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, starts one Daphne
process on a free port, measures, and drops the database. Prints one table:
events/s for batches of 500 and 5,000 events of a realistic mix (one client on one server process; then,
in turn, one server process with --clients-per-server clients against two with twice as many; medians),
the CPU each part took meanwhile (each server, PostgreSQL's backends and its own processes, the load
clients, the rest of the machine), the bound the machine's cores put on two servers (all cores at the
one-server phase's CPU per event), the floor of PostgreSQL's own executemany rate measured in the same
run, then the p50/p95 latency of
two list endpoints after COPYing 1,000,000 task runs (about 2% FAILED).
Targets: >= 20,000 events/s ingested; list queries < 50 ms p95 at 1M task runs.

    .venv/bin/python bench/ingest.py --live-updates [--runs 5] [--events 50000]

instead measures what publishing live updates (orchestrator/broadcast.py) costs
ingestion: two Daphne processes on one database, one without a channel layer and
one on channels-redis ($BENCH_REDIS_URL, default redis://127.0.0.1:6379/0) with a
listener on the `runs` and `task-runs` groups (as open pages would be), measured
in turn, batch after batch; prints both medians and their ratio.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.cpu_meter import CpuMeter, CpuSample, postgres_backends, postgres_background  # noqa: E402
PYTHON = sys.executable
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


# --- events of a realistic mix: per flow run created (with Pending)/Running/Completed, per task run the same plus a log ---


def flow_events(tasks: int, start: datetime) -> list[dict]:
    fr = str(uuid.uuid4())
    clock = [start]

    def ts(step_us: int = 137) -> str:
        clock[0] += timedelta(microseconds=step_us)
        return clock[0].isoformat()

    def ev(type_: str, seq: int, occurred: str | None = None, **fields) -> dict:
        return {"id": str(uuid.uuid4()), "type": type_, "occurred": occurred or ts(), "seq": seq, **fields}

    def st(kind: str, run_id: str, seq: int, type_: str, name: str, run_count: int) -> dict:
        ids = {"task_run_id": run_id, "flow_run_id": fr} if kind == "task_run" else {"flow_run_id": fr}
        occurred = ts()
        return ev(f"{kind}.state", seq, occurred, run_count=run_count, **ids,
                  state_type=type_, state_name=name, state_message=None)

    pending = {"state_type": "PENDING", "state_name": "Pending", "state_message": None}

    events = [
        ev("flow_run.created", 0, flow_run_id=fr, flow_name="nightly-etl", name="brave-otter",
           parameters={"day": "2026-11-26", "limit": 1000}, tags=["bench"], parent_task_run_id=None,
           parent_flow_run_id=None, version="1", **pending),
        st("flow_run", fr, 1, "RUNNING", "Running", 1),
    ]
    for i in range(tasks):
        tr = str(uuid.uuid4())
        events += [
            ev("task_run.created", 0, task_run_id=tr, flow_run_id=fr, task_key="transform-5f3a9c1e",
               task_name="transform", name=f"transform-{i:03x}", parameters={"chunk": i, "path": f"s3://bucket/{i}"},
               tags=["bench"], parent_task_run_id=None, upstream_task_run_ids=[], **pending),
            st("task_run", tr, 1, "RUNNING", "Running", 1),
            ev("log", 2, flow_run_id=fr, task_run_id=tr, level=20, logger="sdk.task_runs",
               message=f"transformed chunk {i}: 1000 rows in 0.2s"),
            st("task_run", tr, 3, "COMPLETED", "Completed", 1),
        ]
    events.append(st("flow_run", fr, 2, "COMPLETED", "Completed", 1))
    return events


def event_stream(total: int) -> list[dict]:
    events: list[dict] = []
    start = T0
    while len(events) < total:
        events += flow_events(tasks=20, start=start)
        start += timedelta(seconds=1)
    return events[:total]


# --- plumbing ---


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"daphne exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("daphne did not start")


def database_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- phases ---


def request_bodies(total: int, batch: int) -> list[bytes]:
    """Pre-generated request bodies: the load clients only post bytes, so they take little of the cores."""
    events = event_stream(total)
    return [json.dumps({"events": events[i : i + batch]}).encode() for i in range(0, len(events), batch)]


def measure_ingest(client: httpx.Client, server_pid: int, database: str, batch: int, total: int, runs: int) -> tuple[list[float], list[float], list[float]]:
    """Per run: events/s (wall clock), server CPU µs per event, and CPU µs per event of the
    PostgreSQL backends connected to the database (the server's pooled connections)."""
    rates, cpu, db_cpu = [], [], []
    meter = CpuMeter({"server": lambda: [server_pid], "PostgreSQL": postgres_backends(database)})
    for _ in range(runs):
        bodies = request_bodies(total, batch)
        meter.start()
        started = time.perf_counter()
        for body in bodies:
            response = client.post("/api/events/", content=body, headers={"Content-Type": "application/json"})
            response.raise_for_status()
            result = response.json()
            assert not result["rejected"], result["rejected"][:3]
        rates.append(total / (time.perf_counter() - started))
        sample = meter.stop()
        cpu.append(sample.per_event_us(total, "server"))
        db_cpu.append(sample.per_event_us(total, "PostgreSQL"))
    return rates, cpu, db_cpu


def measure_executemany(url: str, batch: int, total: int, runs: int) -> list[float]:
    """The floor: rows/s that psycopg's executemany inserts into orchestrator_log, one transaction
    per batch, from this process: what PostgreSQL itself takes, with no HTTP, JSON or Django."""
    sql = ("INSERT INTO orchestrator_log (id, flow_run_id, task_run_id, level, logger, message, timestamp, seq, stored_by) "
           "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'bench')")
    rates = []
    with psycopg.connect(url) as conn:
        for _ in range(runs):
            rows = [(uuid.uuid4(), None, None, 20, "bench", f"line {i}", T0 + timedelta(microseconds=i), i)
                    for i in range(total)]
            started = time.perf_counter()
            for i in range(0, total, batch):
                with conn.cursor() as cursor:
                    cursor.executemany(sql, rows[i : i + batch])
                conn.commit()
            rates.append(total / (time.perf_counter() - started))
        conn.execute("DELETE FROM orchestrator_log WHERE logger = 'bench'")
        conn.commit()
    return rates


def measure_concurrent_ingest(base: str | list[str], key: str, clients: int, batch: int, total: int,
                              runs: int, meter: CpuMeter | None = None) -> tuple[list[float], list[CpuSample]]:
    """Events/s with `clients` clients posting at once (each its own connection), `total` events in all,
    and (with a meter) the CPU each part took during each run.
    With a list of base URLs, client i posts to base i % len(bases) (one server process each)."""
    bases = base if isinstance(base, list) else [base]
    import threading

    rates, samples = [], []
    for _ in range(runs):
        bodies = request_bodies(total, batch)
        shares = [bodies[i::clients] for i in range(clients)]
        errors: list[BaseException] = []

        def post_all(share: list[bytes], base: str) -> None:
            try:
                with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
                    for body in share:
                        client.post("/api/events/", content=body, headers={"Content-Type": "application/json"}).raise_for_status()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=post_all, args=(share, bases[i % len(bases)])) for i, share in enumerate(shares)]
        if meter:
            meter.start()
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        if meter:
            samples.append(meter.stop())
        if errors:
            raise errors[0]
        rates.append(total / elapsed)
    return rates, samples


def scale_out_rows(args, name: str, url: str, env: dict, ingest_key: str, server, base: str) -> list[tuple[str, str, str]]:
    """One server process against two on the same database, measured in turn (so both see the same machine),
    each server posted to by `--clients-per-server` clients; with the CPU every part took and the bound
    the machine's cores put on two servers."""
    rows: list[tuple[str, str, str]] = []
    per_server = args.clients_per_server
    second, base2 = start_daphne(env, subprocess.DEVNULL)
    try:
        parts_one = {"server 1": lambda: [server.pid], "PostgreSQL": postgres_backends(name),
                     "PostgreSQL background": postgres_background}
        parts_two = {**parts_one, "server 2": lambda: [second.pid]}
        one_meter, two_meter = CpuMeter(parts_one, own="clients"), CpuMeter(parts_two, own="clients")
        measure_concurrent_ingest([base, base2], ingest_key, 2 * per_server, 500, 5_000, 1)  # warm-up
        for batch in (500, 5_000):
            one, two = [], []
            one_cpu, two_cpu = [], []
            for _ in range(args.runs):
                rates, samples = measure_concurrent_ingest(base, ingest_key, per_server, batch, args.events, 1, one_meter)
                one += rates
                one_cpu += samples
                rates, samples = measure_concurrent_ingest([base, base2], ingest_key, 2 * per_server, batch, args.events, 1,
                                                           two_meter)
                two += rates
                two_cpu += samples
            one_rate, two_rate = statistics.median(one), statistics.median(two)
            one_sum, two_sum = sum(one_cpu[1:], one_cpu[0]), sum(two_cpu[1:], two_cpu[0])
            events = args.events * args.runs
            # What the cores allow: every core busy with this work at the one-server phase's CPU per event.
            us_per_event = one_sum.per_event_us(events)
            bound = one_sum.cores / us_per_event * 1e6
            # The same with only the cores that the rest of the machine left free during the two-server phase.
            free = max(0.1, one_sum.cores - two_sum.other / two_sum.wall)
            free_bound = free / us_per_event * 1e6
            rows += [
                (f"scale-out, batches of {batch:,}: 1 server, {per_server} clients", f"{one_rate:,.0f} events/s",
                 f"median of {args.runs} x {args.events:,} events; range {min(one):,.0f}-{max(one):,.0f}"),
                ("  CPU during it", f"{one_sum.ours / one_sum.wall:.2f} cores", one_sum.describe(events)),
                (f"scale-out, batches of {batch:,}: 2 servers, {2 * per_server} clients", f"{two_rate:,.0f} events/s",
                 f"{two_rate / one_rate:.2f}x one server (target 1.7x); in turn with the above; "
                 f"range {min(two):,.0f}-{max(two):,.0f}"),
                ("  CPU during it", f"{two_sum.ours / two_sum.wall:.2f} cores",
                 f"{two_sum.describe(events)}; all parts {two_sum.per_event_us(events):.0f} µs/event "
                 f"(1 server: {one_sum.per_event_us(events):.0f})"),
                ("  bound: the machine's cores", f"{bound:,.0f} events/s",
                 f"= {bound / one_rate:.2f}x one server: {one_sum.cores} cores / {us_per_event:.0f} µs CPU per event "
                 f"(servers + PostgreSQL + clients, 1-server phase); two servers reach {two_rate / bound:.0%} of it"),
                ("  bound: the cores left free", f"{free_bound:,.0f} events/s",
                 f"= {free_bound / one_rate:.2f}x one server: {free:.2f} cores (what other processes left during the "
                 f"2-server phase) / {us_per_event:.0f} µs; two servers reach {two_rate / free_bound:.0%} of it"),
            ]
            print(f"  ... {rows[-6:]}", file=sys.stderr, flush=True)
    finally:
        second.terminate()
        second.wait(timeout=10)
    return rows


TASK_COLUMNS = (
    "id, name, parameters, tags, run_count, state_type, state_name, state_message, state_timestamp, state_seq, "
    "start_time, end_time, created, has_created_event, parent_task_run_id, updated, flow_run_id, task_key, "
    "task_name, upstream_task_run_ids, stored_by, unstored_parameters"
)
FLOW_COLUMNS = (
    "id, name, parameters, tags, run_count, state_type, state_name, state_message, state_timestamp, state_seq, "
    "start_time, end_time, created, has_created_event, parent_task_run_id, updated, flow_id, parent_flow_run_id, version, "
    "stored_by, unstored_parameters"
)


def load_runs(url: str, task_runs: int, per_flow: int = 20) -> float:
    """COPY task runs (about 2% FAILED) and their flow runs straight into the tables; return seconds taken."""
    rnd = random.Random(1)
    started = time.perf_counter()
    span = timedelta(days=30).total_seconds()
    with psycopg.connect(url, autocommit=True) as conn:
        flow_id = conn.execute(
            "INSERT INTO orchestrator_flow (name, created) VALUES ('bench-load', now()) "
            "ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id"
        ).fetchone()[0]
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('orchestrator_taskrun', 'orchestrator_flowrun') "
            "AND indexname NOT LIKE '%%_pkey'"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        flows = io.StringIO()
        tasks = io.StringIO()
        for f in range(task_runs // per_flow):
            fr = uuid.uuid4()
            created = T0 + timedelta(seconds=rnd.random() * span)
            end = created + timedelta(seconds=30)
            flow_failed = False
            for t in range(per_flow):
                tr = uuid.uuid4()
                t_created = created + timedelta(milliseconds=t * 100)
                failed = rnd.random() < 0.02
                flow_failed |= failed
                state, name = ("FAILED", "Failed") if failed else ("COMPLETED", "Completed")
                t_end = t_created + timedelta(seconds=1)
                tasks.write(
                    f"{tr}\ttransform-{t:03x}\t{{}}\t[]\t1\t{state}\t{name}\t\t{t_end}\t4\t{t_created}\t{t_end}\t"
                    f"{t_created}\tt\t\\N\t{t_end}\t{fr}\ttransform-5f3a9c1e\ttransform\t[]\tbench\t[]\n"
                )
            state, name = ("FAILED", "Failed") if flow_failed else ("COMPLETED", "Completed")
            flows.write(
                f"{fr}\tflow-{f}\t{{}}\t[]\t1\t{state}\t{name}\t\t{end}\t3\t{created}\t{end}\t{created}\tt\t\\N\t"
                f"{end}\t{flow_id}\t\\N\t\tbench\t[]\n"
            )
        with conn.cursor() as cur:
            with cur.copy(f"COPY orchestrator_flowrun ({FLOW_COLUMNS}) FROM STDIN") as copy:
                copy.write(flows.getvalue())
            with cur.copy(f"COPY orchestrator_taskrun ({TASK_COLUMNS}) FROM STDIN") as copy:
                copy.write(tasks.getvalue())
        conn.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE orchestrator_taskrun")
        conn.execute("VACUUM ANALYZE orchestrator_flowrun")
    return time.perf_counter() - started


def measure_query(client: httpx.Client, path: str, repeat: int) -> tuple[float, float, int]:
    for _ in range(5):
        client.get(path).raise_for_status()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return percentile(times, 50), percentile(times, 95), len(response.json()["results"])


def start_daphne(env: dict, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    daphne = str(Path(PYTHON).parent / "daphne")
    server = subprocess.Popen([daphne, "-v", "0", "-b", "127.0.0.1", "-p", str(port), "orchestrator.asgi:application"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    wait_for_port(port, server)
    return server, f"http://127.0.0.1:{port}"


class GroupListener:
    """A channel in the `runs` and `task-runs` groups of channels-redis, drained on its own thread."""

    GROUPS = ("runs", "task-runs")
    stopping = False

    def __init__(self, redis_url: str) -> None:
        import asyncio
        import threading

        from channels_redis.core import RedisChannelLayer

        self.redis_url = redis_url
        from orchestrator.config import channel_redis_host

        self.layer = RedisChannelLayer(hosts=[channel_redis_host(redis_url)], capacity=1000)
        self.received = 0
        self.errors: list[str] = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def listen() -> None:
            self.channel = channel = await self.layer.new_channel()
            for group in self.GROUPS:
                await self.layer.group_add(group, channel)
            ready.set()
            while not self.stopping:
                try:
                    await self.layer.receive(channel)
                    self.received += 1
                except Exception as exc:  # a slow Redis on a loaded machine: keep listening
                    self.errors.append(repr(exc))

        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(listen(),), daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise SystemExit("could not join the channel-layer groups")

    def close(self) -> None:
        """Leave the groups, so later servers on this Redis do not keep sending to a dead channel."""
        import redis

        self.stopping = True
        self.thread.join(10)  # its receive times out within the layer's brpop timeout
        client = redis.Redis.from_url(self.redis_url)
        for group in self.GROUPS:
            client.zrem(self.layer._group_key(group), self.channel)
        client.close()


def compare_live_updates(args, name: str, env: dict, ingest_key: str) -> list[tuple[str, str, str]]:
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    off_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings_without_live_updates", "PYTHONPATH": str(ROOT)}
    on_env = {**env, "REDIS_URL": redis_url}
    listener = GroupListener(redis_url)
    server_log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-live-updates-{os.getpid()}.log", "w+b")
    servers = [start_daphne(off_env, server_log), start_daphne(on_env, server_log)]
    rows = []
    try:
        clients = [httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ingest_key}"}, timeout=120)
                   for _, base in servers]
        for client, (proc, _) in zip(clients, servers):
            measure_ingest(client, proc.pid, name, 500, 5_000, 1)  # warm-up
        for batch in (500, 5_000):
            rates: list[list[float]] = [[], []]
            cpu: list[list[float]] = [[], []]
            for _ in range(args.runs):  # in turn, so both see the same machine load
                for i, (client, (proc, _)) in enumerate(zip(clients, servers)):
                    rate, cpu_us, _db = measure_ingest(client, proc.pid, name, batch, args.events, 1)
                    rates[i] += rate
                    cpu[i] += cpu_us
            off, on = statistics.median(rates[0]), statistics.median(rates[1])
            off_cpu, on_cpu = statistics.median(cpu[0]), statistics.median(cpu[1])
            rows.append((f"ingest, batches of {batch:,}, no channel layer", f"{off:,.0f} events/s",
                         f"median of {args.runs} x {args.events:,} events; server CPU {off_cpu:.1f} µs/event (the floor)"))
            rows.append((f"ingest, batches of {batch:,}, channels-redis + listener", f"{on:,.0f} events/s",
                         f"ratio {on / off:.3f} (in turn, same run); server CPU {on_cpu:.1f} µs/event, "
                         f"ratio {off_cpu / on_cpu:.3f}"))
            print(f"  ... {rows[-2:]}", file=sys.stderr, flush=True)
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(10)
        listener.close()
    server_log.seek(0)
    failures = server_log.read().decode(errors="replace").count("publishing failed")
    rows.append(("  publishing failures logged by the server", str(failures), "must be 0 for the ratio to count"))
    rows.append(("  messages the listener received", str(listener.received),
                 f"one per group per batch; {len(listener.errors)} receive errors"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="repetitions per batch size (median reported)")
    parser.add_argument("--events", type=int, default=50_000, help="events per repetition")
    parser.add_argument("--task-runs", type=int, default=1_000_000, help="0: measure ingestion only")
    parser.add_argument("--queries", type=int, default=100, help="requests per list query")
    parser.add_argument("--live-updates", action="store_true", help="measure what publishing live updates costs")
    parser.add_argument("--clients-per-server", type=int, default=2, help="load clients posting to each server process")
    args = parser.parse_args()

    name = f"orch_bench_{os.getpid()}"
    url = database_url(name)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    server = None
    rows: list[tuple[str, str, str]] = []
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from api.models import APIKey

        _, ingest_key = APIKey.issue("bench-ingest", "ingest")
        _, read_key = APIKey.issue("bench-read", "read")
        from django.db import connections

        connections.close_all()
        if args.live_updates:
            rows = compare_live_updates(args, name, env, ingest_key)
            print_table(rows)
            return 0

        port = free_port()
        daphne = str(Path(PYTHON).parent / "daphne")
        # As `make up` runs it (orchestrator/management/commands/up.py): -v 0, no per-request access log.
        server = subprocess.Popen([daphne, "-v", "0", "-b", "127.0.0.1", "-p", str(port), "orchestrator.asgi:application"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(port, server)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ingest_key}"}, timeout=120) as client:
            measure_ingest(client, server.pid, name, 500, 5_000, 1)  # warm-up
            for batch in (500, 5_000):
                rates, cpu, db_cpu = measure_ingest(client, server.pid, name, batch, args.events, args.runs)
                rows.append((f"ingest, batches of {batch:,} events", f"{statistics.median(rates):,.0f} events/s",
                             f"median of {args.runs} x {args.events:,} events; range {min(rates):,.0f}-{max(rates):,.0f}"))
                rows.append(("  server process CPU per event", f"{statistics.median(cpu):.1f} µs",
                             f"Daphne+Django, all threads; = {1e6 / statistics.median(cpu):,.0f} events/s per busy core"))
                rows.append(("  PostgreSQL CPU per event", f"{statistics.median(db_cpu):.1f} µs",
                             "backends of the server's pooled database connections (orchestrator/config.py)"))
                print(f"  ... {rows[-3:]}", file=sys.stderr, flush=True)
        rows += scale_out_rows(args, name, url, env, ingest_key, server, base)
        for batch in (500, 5_000):
            rates = measure_executemany(url, batch, args.events, args.runs)
            rows.append((f"floor: PostgreSQL executemany, batches of {batch:,} rows", f"{statistics.median(rates):,.0f} rows/s",
                         "psycopg executemany into orchestrator_log, one transaction per batch, same run"))
            print(f"  ... {rows[-1]}", file=sys.stderr, flush=True)
        if not args.task_runs:
            print_table(rows)
            return 0
        seconds = load_runs(url, args.task_runs)
        rows.append((f"COPY {args.task_runs:,} task runs (+ flow runs, indexes)", f"{seconds:,.1f} s", "setup, not a target"))
        print(f"  ... {rows[-1]}", file=sys.stderr, flush=True)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {read_key}"}, timeout=120) as client:
            for path in ("/api/task-runs/?state=FAILED", "/api/flow-runs/"):
                p50, p95, n = measure_query(client, path, args.queries)
                rows.append((f"GET {path}", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
                             f"{args.queries} requests, {n} results/page, client-side round trip"))
                print(f"  ... {rows[-1]}", file=sys.stderr, flush=True)
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


def print_table(rows: list[tuple[str, str, str]]) -> None:
    header = ("measurement", "result", "notes")
    width = [max(len(r[i]) for r in [*rows, header]) for i in range(3)]
    line = "+-" + "-+-".join("-" * w for w in width) + "-+"
    print(line)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, width)) + " |")
    print(line)
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, width)) + " |")
    print(line)


if __name__ == "__main__":
    sys.exit(main())
