"""Retries: count, list delays, callable delays, jitter, retry_condition_fn, flow retries."""
from __future__ import annotations

import time

import pytest

from sdk import flow, task
from sdk.engine.retries import next_delay

from .conftest import created, run_events, state_names


def flaky(fail_times: int, error=ValueError):
    calls = []

    def fn():
        calls.append(time.monotonic())
        if len(calls) <= fail_times:
            raise error(f"attempt {len(calls)}")
        return len(calls)

    return fn, calls


def test_task_retries_until_it_succeeds(sink):
    fn, calls = flaky(2)
    assert task(retries=2, name="flaky")(fn)() == 3
    (run,) = created(sink, "task_run", "flaky")
    assert state_names(sink, run["task_run_id"]) == [
        "Pending", "Running", "AwaitingRetry", "Retrying", "AwaitingRetry", "Retrying", "Completed"]


def test_run_count_goes_up_with_each_attempt(sink):
    fn, _ = flaky(1)
    task(retries=1, name="flaky")(fn)()
    (run,) = created(sink, "task_run", "flaky")
    counts = [(e["state_name"], e.get("run_count", 0)) for e in run_events(sink, run["task_run_id"]) if "state_name" in e]
    assert counts == [("Pending", 0), ("Running", 1), ("AwaitingRetry", 1), ("Retrying", 2), ("Completed", 2)]


def test_retries_are_exhausted_then_the_task_fails():
    fn, calls = flaky(5)
    with pytest.raises(ValueError, match="attempt 3"):
        task(retries=2)(fn)()
    assert len(calls) == 3


def test_number_retry_delay_waits_between_attempts():
    fn, calls = flaky(1)
    task(retries=1, retry_delay_seconds=0.2)(fn)()
    assert calls[1] - calls[0] >= 0.19


def test_list_retry_delays_are_used_in_order_and_the_last_repeats():
    assert [next_delay([1.0, 2.0], retries_done=i) for i in range(4)] == [1.0, 2.0, 2.0, 2.0]


def test_list_retry_delays_apply_to_a_task(sink):
    fn, calls = flaky(2)
    task(retries=2, retry_delay_seconds=[0.0, 0.2], name="listed")(fn)()
    (run,) = created(sink, "task_run", "listed")
    waits = [e["state_message"] for e in run_events(sink, run["task_run_id"]) if e.get("state_name") == "AwaitingRetry"]
    assert waits == ["Retry 1/2 will start 0 second(s) from now", "Retry 2/2 will start 0.2 second(s) from now"]
    assert calls[2] - calls[1] >= 0.19  # a sleep is never shorter than asked, however busy the machine


def test_callable_retry_delay_gets_the_retry_count():
    seen = []

    def backoff(retries):
        seen.append(retries)
        return [0.0] * retries

    fn, calls = flaky(2)
    task(retries=2, retry_delay_seconds=backoff)(fn)()
    assert seen == [2] and len(calls) == 3


def test_jitter_spreads_the_delay_around_its_value():
    delays = {next_delay(10.0, jitter=0.5, retries_done=0) for _ in range(50)}
    assert all(5.0 <= d <= 15.0 for d in delays) and len(delays) > 1


def test_jitter_never_makes_a_negative_delay():
    assert all(next_delay(1.0, jitter=3.0, retries_done=0) >= 0 for _ in range(50))


def test_retry_condition_fn_can_stop_retries():
    fn, calls = flaky(5, error=KeyError)
    condition_calls = []

    def only_value_errors(t, run, state):
        condition_calls.append((t.name, run.run_count, state.name))
        return isinstance(state.result(raise_on_failure=False), ValueError)

    with pytest.raises(KeyError):
        task(retries=3, retry_condition_fn=only_value_errors, name="cond")(fn)()
    assert len(calls) == 1 and condition_calls == [("cond", 1, "Failed")]


def test_retry_condition_fn_allowing_retries():
    fn, calls = flaky(1)
    assert task(retries=1, retry_condition_fn=lambda t, r, s: True)(fn)() == 2


def test_flow_retries_rerun_the_flow(sink):
    attempts = []

    @flow(retries=1)
    def f():
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("first")
        return "ok"

    assert f() == "ok"
    (run,) = created(sink, "flow_run", "f")
    assert state_names(sink, run["flow_run_id"]) == ["Pending", "Running", "AwaitingRetry", "Retrying", "Completed"]


def test_flow_retries_exhausted_fail():
    @flow(retries=1, retry_delay_seconds=0)
    def f():
        raise ValueError("always")

    with pytest.raises(ValueError):
        f()


def test_exponential_backoff_doubles_from_the_factor():
    from sdk.tasks import exponential_backoff

    assert exponential_backoff(10)(3) == [10, 20, 40]
    t = task(retries=3, retry_delay_seconds=exponential_backoff(0))(lambda: 1)
    assert t.retry_delays == [0.0, 0.0, 0.0]
