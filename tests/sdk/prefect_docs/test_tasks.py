"""Prefect's tasks concept page (concepts/tasks), in our words: the ways to run a task, the task
key, and parameter resolution (dataclasses rebuilt with `__post_init__` run again; `quote` and
`opaque` from `sdk.utilities.annotations`). The page's scripts run unchanged in
tests/sdk/test_reference_examples.py."""
from __future__ import annotations

from dataclasses import dataclass, field

from sdk import flow, task
from sdk.futures import PrefectFuture
from sdk.utilities.annotations import opaque, quote


@task
def add_integers(a: int, b: int) -> int:
    return a + b


def test_a_direct_call_returns_the_result_and_submit_a_future():
    assert add_integers(1, 2) == 3

    @flow
    def my_flow():
        future = add_integers.submit(1, 2)
        assert isinstance(future, PrefectFuture)
        return future.result()

    assert my_flow() == 3


def test_the_task_key_is_the_name_and_a_hash_of_the_qualified_name():
    assert add_integers.task_key.startswith("add_integers-")
    assert add_integers.with_options(name="other").task_key != add_integers.task_key


@dataclass
class Pipeline:
    base_rate: float
    adjusted_rate: float | None = None
    inits: list = field(default_factory=list)

    def __post_init__(self):
        self.inits.append(1)
        if self.adjusted_rate is None:
            self.adjusted_rate = self.base_rate * 1.5


@task
def get_rate() -> float:
    return 100.0


@task
def run_pipeline(pipeline: Pipeline):
    return len(pipeline.inits), pipeline.adjusted_rate


def test_a_dataclass_holding_a_future_is_rebuilt_with_post_init_run_again():
    @flow
    def my_flow():
        pipeline = Pipeline(base_rate=42.0, adjusted_rate=get_rate.submit())
        return run_pipeline(pipeline)

    assert my_flow() == (2, 100.0)


def test_quote_passes_the_object_unchanged():
    @flow
    def my_flow():
        pipeline = Pipeline(base_rate=100.0)
        return run_pipeline(quote(pipeline)), pipeline.inits

    (inits_seen, rate), inits = my_flow()
    assert (inits_seen, rate, len(inits)) == (1, 150.0, 1)


def test_opaque_resolves_the_future_without_rebuilding_its_value():
    @task
    def build_pipeline(base_rate: float) -> Pipeline:
        return Pipeline(base_rate=base_rate)

    @flow
    def my_flow():
        future = build_pipeline.submit(100.0)
        return run_pipeline.submit(opaque(future)).result()

    assert my_flow() == (1, 150.0)
