"""Prefect's "cache workflow step outputs" page (how-to-guides/workflows/cache-workflow-steps):
`persist_result=True` alone caches the same inputs within one flow run, INPUTS with and without
a parameter, expiration, refresh_cache and combined policies."""
from __future__ import annotations

from datetime import timedelta

from sdk import flow, task
from sdk.cache_policies import INPUTS, TASK_SOURCE
from sdk.caching import result_store


def test_persist_result_alone_caches_repeated_inputs_within_the_run(capsys):
    @task(persist_result=True)
    def add_one(x: int):
        return x + 1

    @flow
    def my_flow():
        states = [add_one(1, return_state=True), add_one(1, return_state=True), add_one(2, return_state=True)]
        return [str(s) for s in states]

    assert my_flow() == ["Completed()", "Cached(type=COMPLETED)", "Completed()"]
    # a new flow run has a new run id: nothing is cached from the last one
    assert my_flow() == ["Completed()", "Cached(type=COMPLETED)", "Completed()"]


def test_a_task_without_any_caching_option_caches_nothing():
    @task
    def add_one(x: int):
        return x + 1

    assert [add_one(1, return_state=True).name for _ in range(2)] == ["Completed", "Completed"]


def counting(**options):
    calls = []

    @task(**options)
    def my_stateful_task(x: int, debug: bool = False):
        calls.append(x)
        return x + 1

    return my_stateful_task, calls


def test_inputs_policy_runs_once_per_input():
    my_stateful_task, calls = counting(cache_policy=INPUTS)
    assert [my_stateful_task(x=1), my_stateful_task(x=1), my_stateful_task(x=2)] == [2, 2, 3]
    assert calls == [1, 2]


def test_inputs_minus_a_parameter_ignores_it():
    my_stateful_task, calls = counting(cache_policy=INPUTS - "debug")
    my_stateful_task(x=1)
    my_stateful_task(x=1, debug=True)
    my_stateful_task(x=1, debug=False)
    assert calls == [1]


def test_cache_expiration(monkeypatch):
    my_stateful_task, calls = counting(cache_policy=INPUTS, cache_expiration=timedelta(seconds=10))
    my_stateful_task(x=1)
    my_stateful_task(x=1)
    later = result_store._now() + timedelta(seconds=11)
    monkeypatch.setattr(result_store, "_now", lambda: later)
    my_stateful_task(x=1)
    assert calls == [1, 1]


def test_refresh_cache_always_runs_and_false_reads():
    never_caching, calls = counting(cache_policy=TASK_SOURCE, refresh_cache=True)
    never_caching(1)
    never_caching(1)
    assert calls == [1, 1]
    calls = []

    @task(cache_policy=TASK_SOURCE, refresh_cache=False)
    def caching_task():
        calls.append(1)
        return len(calls)

    assert [caching_task(), caching_task()] == [1, 1]
    assert calls == [1]


def test_policies_combine_with_plus():
    my_task, calls = counting(cache_policy=INPUTS + TASK_SOURCE)
    my_task(1)
    my_task(1)
    my_task(2)
    assert calls == [1, 2]
