"""Tasks and flows the test workers serve (`python -m sdk serve tests.workers.served:...`)."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from sdk import cache_policies, flow, get_run_context, task


@dataclass
class Point:
    x: int
    y: int


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def make_point(x: int) -> Point:
    return Point(x, -x)


@task
def refuse(reason: str) -> None:
    raise ValueError(reason)


@task
def fails_on_first_attempt(value: str) -> str:
    """Fails while its run_count is 1: a retry of the same run (run_count 2) completes."""
    if get_run_context().task_run.run_count == 1:
        raise RuntimeError("first attempt fails on purpose")
    return value.upper()


@task
def sleepy(seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # short sleeps: a cancellation can interrupt between them
        time.sleep(0.05)
    return "slept"


@task
def no_op() -> None:
    return None


@task(cache_policy=cache_policies.INPUTS)
def expensive(n: int) -> int:
    return n * 10


@task
def flaky_step(total: int) -> int:
    """Fails in the first attempt of its flow run, completes when the flow run is retried."""
    if get_run_context().flow_run_context.flow_run.run_count == 1:
        raise RuntimeError("the flow's first attempt fails here on purpose")
    return total + 1


@flow(name="resumable")
def resumable(n: int) -> int:
    return flaky_step(expensive(n))


@task
def which_worker(i: int) -> int:
    """The pid of the task worker process that ran it (threads pool: the `sdk serve` process itself)."""
    time.sleep(0.2)  # long enough that one worker cannot drain the queue before the other takes a message
    return os.getpid()
