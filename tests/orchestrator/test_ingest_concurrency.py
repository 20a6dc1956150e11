"""Two server processes ingesting overlapping batches for the same runs at once
(two threads, two PostgreSQL connections): no deadlock, no lost update."""
from __future__ import annotations

import random
import threading

import pytest
from django.db import connection

from orchestrator.ingest import ingest_batch
from orchestrator.models import TaskRun, TaskRunState
from tests.orchestrator.event_factory import flow_run_created, new_id
from tests.orchestrator.test_ingest_properties import RunClock, expected_runs, run_life, stored_runs

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def many_runs(rnd: random.Random, count: int) -> list[dict]:
    fr = new_id()
    events = [flow_run_created(fr)]
    for i in range(count):
        tr = new_id()
        events += run_life(rnd, "task_run", tr, RunClock(rnd, start=i / 100), attempts=rnd.randint(1, 3), flow_run_id=fr, logs=1)
    return events


def split(rnd: random.Random, events: list[dict], batches: int) -> list[list[dict]]:
    shuffled = rnd.sample(events, len(events))
    return [shuffled[i::batches] for i in range(batches)]


def ingest_concurrently(plans: list[list[list[dict]]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(plans))

    def worker(batches: list[list[dict]]) -> None:
        try:
            start.wait()
            for batch in batches:
                ingest_batch(batch)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(plan,)) for plan in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_concurrent_overlapping_batches_neither_deadlock_nor_lose_updates():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    rnd = random.Random(7)
    for _ in range(8):
        events = many_runs(rnd, 15)
        errors = ingest_concurrently([split(rnd, events, 12), split(rnd, events, 12)])
        assert errors == []
        expected = expected_runs(events)
        assert {k: v for k, v in stored_runs().items() if k in expected} == expected


def test_concurrent_batches_store_every_state_exactly_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    rnd = random.Random(11)
    events = many_runs(rnd, 100)
    states = sum(1 for e in events if e["type"] == "task_run.state")
    assert ingest_concurrently([split(rnd, events, 5), split(rnd, events, 3), split(rnd, events, 7)]) == []
    assert TaskRunState.objects.count() == states
    assert TaskRun.objects.count() == 100
