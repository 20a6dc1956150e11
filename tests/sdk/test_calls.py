"""Direct call, .submit(), .map() with unmapped, return_state, tasks outside flows, tasks calling tasks."""
from __future__ import annotations

import threading

import pytest

from sdk import flow, task, unmapped
from sdk.exceptions import MappingLengthMismatch, MappingMissingIterable
from sdk.futures import TaskRunFuture
from sdk.states import State

from .conftest import created


@task
def add(a, b=10):
    return a + b


@task
def boom():
    raise ValueError("boom")


def test_direct_call_in_a_flow_returns_the_result():
    @flow
    def f():
        return add(1, 2)

    assert f() == 3


def test_direct_call_raises_the_task_exception():
    @flow
    def f():
        boom()

    with pytest.raises(ValueError, match="boom"):
        f()


def test_direct_call_with_return_state_returns_the_final_state():
    state = boom(return_state=True)
    assert isinstance(state, State) and state.is_failed()
    assert isinstance(state.result(raise_on_failure=False), ValueError)


def test_return_state_on_success_is_completed_with_the_value():
    state = add(1, return_state=True)
    assert state.is_completed() and state.result() == 11


def test_task_outside_a_flow_runs_and_has_no_flow_run(sink):
    assert add(2, 3) == 5
    (event,) = created(sink, "task_run", "add")
    assert event["flow_run_id"] is None


def test_submit_returns_a_future_at_once():
    release = threading.Event()

    @task
    def blocked():
        assert release.wait(10)
        return "done"

    @flow
    def f():
        future = blocked.submit()
        assert isinstance(future, TaskRunFuture) and not future.done()
        release.set()
        return future.result(timeout=10)

    assert f() == "done"


def test_submit_outside_a_flow_works():
    future = add.submit(1, 1)
    assert future.result(timeout=10) == 2


def test_submitted_tasks_run_concurrently():
    barrier = threading.Barrier(3, timeout=10)

    @task
    def meet(i):
        barrier.wait()
        return i

    @flow
    def f():
        return [fut.result(timeout=10) for fut in [meet.submit(i) for i in range(3)]]

    assert f() == [0, 1, 2]


def test_map_submits_one_run_per_element():
    @flow
    def f():
        return add.map([1, 2, 3], [10, 20, 30]).result()

    assert f() == [11, 22, 33]


def test_map_with_unmapped_passes_the_value_whole():
    @task
    def length(item, pool):
        return item + len(pool)

    @flow
    def f():
        return length.map([1, 2], unmapped([7, 8, 9])).result()

    assert f() == [4, 5]


def test_map_with_a_static_non_iterable_argument():
    @flow
    def f():
        return add.map([1, 2], b=100).result()

    assert f() == [101, 102]


def test_map_over_futures_resolves_each():
    @flow
    def f():
        firsts = add.map([1, 2])
        return add.map(firsts, b=1).result()

    assert f() == [12, 13]


def test_map_result_list_wait_waits_for_all():
    @flow
    def f():
        futures = add.map([1, 2, 3])
        futures.wait(timeout=10)
        return all(fut.done() for fut in futures)

    assert f() is True


def test_map_over_iterables_of_different_lengths_raises_at_once(sink):
    with pytest.raises(MappingLengthMismatch, match="different lengths"):
        add.map([1, 2, 3], [1, 2])
    assert created(sink, "task_run") == []


def test_map_without_any_iterable_raises():
    with pytest.raises(MappingMissingIterable):
        add.map(1, 2)


def test_map_treats_strings_as_single_values():
    @task
    def join(x, sep):
        return f"{x}{sep}"

    @flow
    def f():
        return join.map([1, 2], "!").result()

    assert f() == ["1!", "2!"]


def test_task_calling_a_task_records_the_parent(sink):
    @task
    def outer():
        return add(1, 1)

    @flow
    def f():
        return outer()

    assert f() == 2
    (outer_run,) = created(sink, "task_run", "outer")
    (inner_run,) = created(sink, "task_run", "add")
    assert inner_run["parent_task_run_id"] == outer_run["task_run_id"]
    assert inner_run["flow_run_id"] == outer_run["flow_run_id"] is not None


def test_task_submitting_and_waiting_on_tasks_does_not_deadlock_a_small_pool():
    from sdk.task_runners import ThreadPoolTaskRunner

    @task
    def parent(i):
        return sum(add.submit(i, j).result(timeout=10) for j in range(2))

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def f():
        return parent.map([0, 1]).result(timeout=20)

    assert f() == [1, 3]


def test_task_calling_a_flow_makes_a_child_flow_run_of_that_task(sink):
    @flow
    def child():
        return add(1, 2)

    @task
    def caller():
        return child()

    @flow
    def parent():
        return caller()

    assert parent() == 3
    (caller_run,) = created(sink, "task_run", "caller")
    (child_run,) = created(sink, "flow_run", "child")
    assert child_run["parent_task_run_id"] == caller_run["task_run_id"]
    assert child_run["parent_flow_run_id"] == caller_run["flow_run_id"]


def test_task_with_positional_only_and_var_arguments():
    @task
    def combine(a, /, *rest, sep="-", **extra):
        return sep.join([str(a), *map(str, rest), *sorted(extra)])

    assert combine(1, 2, 3, sep="+", z=1, y=2) == "1+2+3+y+z"


def test_task_waiting_without_timeout_on_its_own_submissions_does_not_deadlock_a_one_thread_pool():
    from sdk.task_runners import ThreadPoolTaskRunner

    @task
    def parent(i):
        return [add.submit(i, j).result() for j in range(3)]

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def f():
        return parent.map([0, 1]).result(timeout=20)

    assert f() == [[0, 1, 2], [1, 2, 3]]


def test_long_chain_of_dependent_submissions_resolves():
    @flow
    def f():
        future = add.submit(0, 0)
        for _ in range(300):
            future = add.submit(future, 1)
        return future.result()

    assert f() == 300


def test_submit_outside_a_flow_works_in_a_forked_child():
    import multiprocessing

    assert add.submit(1, 1).result(timeout=10) == 2  # the parent's default runner has threads now

    def child(queue):
        queue.put(add.submit(2, 2).result(timeout=10))

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    try:
        assert queue.get(timeout=20) == 4
    finally:
        process.join(20)
