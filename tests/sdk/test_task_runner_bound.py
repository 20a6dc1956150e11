"""`ThreadPoolTaskRunner(max_workers=n)` bounds the task bodies running at once, whichever
thread runs them: the flow's own thread runs a waited-for run inline only when a slot is free."""
from __future__ import annotations

import threading

import pytest

from sdk import flow, task
from sdk.task_runners import ThreadPoolTaskRunner


class Occupancy:
    """Counts the task bodies inside `with occupancy:` at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.someone_else_entered = threading.Event()

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
            if self.now > 1:
                self.someone_else_entered.set()

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.now -= 1


def test_max_workers_1_never_runs_two_bodies_even_when_the_flow_waits_on_an_unstarted_run():
    occupancy = Occupancy()
    first_started = threading.Event()

    @task
    def first() -> str:
        with occupancy:
            first_started.set()
            # Long enough for the flow's thread to try running `second` inline; ends early if it does.
            occupancy.someone_else_entered.wait(1.0)
        return "first"

    @task
    def second() -> str:
        with occupancy:
            return "second"

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def serialised() -> list[str]:
        a = first.submit()
        b = second.submit()
        assert first_started.wait(30)
        return [b.result(), a.result()]  # waits on `second` while `first` holds the only slot

    assert serialised() == ["second", "first"]
    assert occupancy.most == 1


@pytest.mark.parametrize("max_workers", [1, 2, 3])
def test_many_submitted_runs_waited_on_in_reverse_stay_within_the_bound(max_workers):
    occupancy = Occupancy()

    @task
    def body(i: int) -> int:
        with occupancy:
            occupancy.someone_else_entered.wait(0.01)  # give others a chance to overlap
            return i

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=max_workers))
    def many() -> list[int]:
        futures = [body.submit(i) for i in range(30)]
        return [f.result() for f in reversed(futures)]

    assert many() == list(reversed(range(30)))
    assert occupancy.most <= max_workers


def test_a_task_waiting_on_a_task_it_submitted_does_not_deadlock_with_max_workers_1():
    @task
    def leaf(x: int) -> int:
        return x * 2

    @task
    def parent(x: int) -> int:
        return leaf.submit(x).result(timeout=30) + leaf.submit(x + 1).result()

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def nested() -> list[int]:
        return [f.result(timeout=60) for f in [parent.submit(i) for i in range(4)]]

    assert nested() == [4 * i + 2 for i in range(4)]


def test_the_waiting_thread_still_runs_unstarted_runs_itself_when_a_slot_is_free():
    ran_on: list[int] = []

    @task
    def where() -> None:
        ran_on.append(threading.get_ident())

    @flow
    def submit_then_result() -> int:
        for _ in range(200):
            where.submit().result()
        return threading.get_ident()

    flow_thread = submit_then_result()
    assert len(ran_on) == 200
    assert flow_thread in ran_on  # the speed-up: no thread switch for a run nobody has started
