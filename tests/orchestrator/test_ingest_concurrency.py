"""Two server processes ingesting overlapping batches for the same runs at once
(two threads, two PostgreSQL connections): no deadlock, no lost update."""
from __future__ import annotations

import logging
import random
import threading

import pytest
from django.db import connection

from orchestrator.ingest import ingest_batch
from orchestrator.models import TaskRun, TaskRunState
from tests.orchestrator.event_factory import at, flow_run_created, heartbeat, new_id, task_run_created
from tests.orchestrator.test_ingest_properties import RunClock, clear, expected_runs, run_life, snapshot, stored_runs

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")


def assert_runs_are_as_the_events_say(events: list[dict]) -> None:
    expected = expected_runs(events)
    assert {k: v for k, v in stored_runs().items() if k in expected} == expected


def many_runs(rnd: random.Random, count: int) -> list[dict]:
    fr = new_id()
    events = [flow_run_created(fr)]
    for i in range(count):
        tr = new_id()
        events += run_life(rnd, "task_run", tr, RunClock(rnd, start=i / 100), attempts=rnd.randint(1, 3), flow_run_id=fr, logs=1)
    return events


def many_flows(rnd: random.Random, flows: int, tasks: int) -> list[dict]:
    """Flow runs with tags, their states and logs, task runs with tags, states, retries and logs, heartbeats."""
    events = []
    for f in range(flows):
        fr = new_id()
        events.append(flow_run_created(fr, flow_name=f"flow-{f % 2}", tags=["shared", f"f{f}"]))
        events += run_life(rnd, "flow_run", fr, RunClock(rnd, start=f), attempts=rnd.randint(1, 2), logs=1)
        for t in range(tasks):
            tr = new_id()
            events.append(task_run_created(tr, fr, at(f + t / 100), tags=["shared"]))
            events += run_life(rnd, "task_run", tr, RunClock(rnd, start=f + t / 100), attempts=rnd.randint(1, 3),
                               flow_run_id=fr, logs=1)
    events += [heartbeat("worker-1", seq, at(seq)) for seq in range(1, 6)]
    return events


def split(rnd: random.Random, events: list[dict], batches: int) -> list[list[dict]]:
    shuffled = rnd.sample(events, len(events))
    return [shuffled[i::batches] for i in range(batches)]


class RetryCounter(logging.Handler):
    """Counts the batches ingestion had to retry (a deadlock it should have avoided)."""

    def __init__(self) -> None:
        super().__init__()
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.retries += "retrying" in record.getMessage()


def ingest_concurrently(plans: list[list[list[dict]]]) -> list:
    """Run each plan (a list of batches) on its own thread and connection; return errors and retries."""
    errors: list = []
    counter = RetryCounter()
    logging.getLogger("orchestrator.ingest").addHandler(counter)
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
    logging.getLogger("orchestrator.ingest").removeHandler(counter)
    return errors + [f"{counter.retries} batches retried after a deadlock"] * bool(counter.retries)


def test_concurrent_batches_of_different_events_for_the_same_runs_lose_no_update():
    """Disjoint halves: neither batch waits on the other's state rows, only on the run rows."""
    rnd = random.Random(7)
    for runs, batches in [(15, 12), (5, 20)] * 4:
        events = many_runs(rnd, runs)
        rnd.shuffle(events)
        half = len(events) // 2
        assert ingest_concurrently([split(rnd, events[:half], batches), split(rnd, events[half:], batches)]) == []
        assert_runs_are_as_the_events_say(events)


def test_concurrent_overlapping_batches_neither_deadlock_nor_lose_updates():
    rnd = random.Random(7)
    for _ in range(8):
        events = many_runs(rnd, 15)
        assert ingest_concurrently([split(rnd, events, 12), split(rnd, events, 12)]) == []
        assert_runs_are_as_the_events_say(events)


def test_concurrent_batches_store_every_state_exactly_once():
    rnd = random.Random(11)
    events = many_runs(rnd, 100)
    states = sum(1 for e in events if e["type"] == "task_run.state")
    assert ingest_concurrently([split(rnd, events, 5), split(rnd, events, 3), split(rnd, events, 7)]) == []
    assert TaskRunState.objects.count() == states
    assert TaskRun.objects.count() == 100


def test_concurrent_delivery_stores_exactly_what_sequential_delivery_stores():
    rnd = random.Random(13)
    events = many_flows(rnd, flows=4, tasks=12)
    clear()
    ingest_batch(events)
    sequential = snapshot()
    clear()
    assert ingest_concurrently([split(rnd, events, 9), split(rnd, events, 7), split(rnd, events, 11)]) == []
    assert snapshot() == sequential
