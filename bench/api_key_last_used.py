"""Benchmark (not a test): what recording an API key's last use costs ingestion.

    .venv/bin/python bench/api_key_last_used.py [--rounds 7] [--requests 40] [--events 50] [--postgres]

Posts small event batches (`--events` per request, the SDK's realistic mix) through
Django's full request path in this process, on a temporary SQLite database (or, with
`--postgres`, a fresh database next to $BENCH_POSTGRES_URL's, dropped after), with one
ingest key, in three ways taken in turn within each round (so machine load hits all
alike):
  floor        last use is never recorded (the cost of authenticating and ingesting alone)
  ours         last use written at most once a minute (what the server does)
  per request  last use written on every request (what we avoid)
Prints one table: median milliseconds per request and the ratio to the floor.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_postgres_database() -> tuple[str, Callable[[], None]]:
    import psycopg

    name = f"orch_bench_lastused_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


def setup_django(workdir: Path, database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["ORCHESTRATOR_HOME"] = str(workdir / "home")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=40, help="requests per way per round")
    parser.add_argument("--events", type=int, default=50, help="events per request")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="orch-bench-lastused-"))
    database_url, drop = (fresh_postgres_database() if args.postgres
                          else (f"sqlite:///{workdir / 'bench.sqlite3'}", lambda: None))
    try:
        setup_django(workdir, database_url)
        measure(args, "PostgreSQL" if args.postgres else "SQLite")
    finally:
        drop()


def measure(args, database: str) -> None:
    from django.test import Client

    from api.models import APIKey
    from ingest import event_stream  # bench/ingest.py: the same event mix

    _, raw = APIKey.issue("bench", "ingest")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    record_use = APIKey.record_use

    def never(self, now=None) -> None:
        return None

    ways = {
        "floor": (never, APIKey.LAST_USED_RESOLUTION),
        "ours (once a minute)": (record_use, APIKey.LAST_USED_RESOLUTION),
        "per request": (record_use, timedelta(0)),
    }
    timings: dict[str, list[float]] = {name: [] for name in ways}
    stream = iter(event_stream(args.rounds * len(ways) * args.requests * args.events + args.events * 5))

    def batch() -> bytes:
        import json

        return json.dumps({"events": [next(stream) for _ in range(args.events)]}).encode()

    for _ in range(3):  # warm-up: imports, first queries
        assert client.post("/api/events/", batch(), content_type="application/json").status_code == 200
    for _ in range(args.rounds):
        for name, (recorder, resolution) in ways.items():
            APIKey.record_use, APIKey.LAST_USED_RESOLUTION = recorder, resolution
            for _ in range(args.requests):
                body = batch()
                started = time.perf_counter()
                response = client.post("/api/events/", body, content_type="application/json")
                timings[name].append(time.perf_counter() - started)
                assert response.status_code == 200 and response.json()["accepted"] == args.events, response.content
    APIKey.record_use, APIKey.LAST_USED_RESOLUTION = record_use, timedelta(minutes=1)

    floor = statistics.median(timings["floor"])
    print(f"\nAPI key last-use recording, {args.events} events per request, {database}, "
          f"{args.rounds} rounds x {args.requests} requests per way (medians)")
    print(f"{'way':24s} {'ms/request':>11s} {'vs floor':>9s}")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:24s} {median * 1000:11.2f} {median / floor:8.2f}x")


if __name__ == "__main__":
    main()
