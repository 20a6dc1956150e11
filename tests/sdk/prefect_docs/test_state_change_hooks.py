"""Prefect's "respond to state changes" page (how-to-guides/workflows/state-change-hooks):
every hook of the table, the decorator form, hooks after retries, `on_running` per attempt,
and kwargs passed with `functools.partial`."""
from __future__ import annotations

from functools import partial

from sdk import flow, task
from sdk.states import Completed


def test_on_failure_runs_once_after_the_retries():
    seen = []

    @flow(retries=1, retry_delay_seconds=0)
    def failing_flow():
        raise ValueError("oops!")

    @failing_flow.on_failure
    def notify(flow_obj, flow_run, state):
        seen.append((flow_obj.name, flow_run.run_count, state.name))

    state = failing_flow(return_state=True)
    assert state.is_failed()
    assert seen == [("failing-flow", 2, "Failed")]


def test_on_running_runs_before_the_body_in_list_and_decorator_form(capsys):
    order = []

    def record_start_time(task_obj, task_run, state):
        order.append(("hook", task_obj.name, state.name))

    @task(on_running=[record_start_time])
    def my_task():
        order.append(("body", "my_task"))
        return "hello"

    @task
    def another_task():
        order.append(("body", "another_task"))
        return "world"

    @another_task.on_running
    def log_start(task_obj, task_run, state):
        print(f"Starting {task_obj.name}!")

    @flow
    def my_flow():
        return my_task(), another_task()

    assert my_flow() == ("hello", "world")
    assert order == [("hook", "my_task", "Running"), ("body", "my_task"), ("body", "another_task")]
    assert "Starting another_task!" in capsys.readouterr().out


def test_on_running_fires_on_every_attempt():
    states = []
    attempts = iter([ValueError("first"), ValueError("second"), None])

    @task(retries=2, retry_delay_seconds=0, on_running=[lambda t, run, s: states.append(s.name)])
    def flaky():
        error = next(attempts)
        if error:
            raise error
        return "ok"

    assert flaky() == "ok"
    assert states == ["Running", "Retrying", "Retrying"]


def test_flow_on_running_and_on_completion():
    seen = []

    @flow(on_running=[lambda f, r, s: seen.append(s.name)], on_completion=[lambda f, r, s: seen.append(s.name)])
    def fine():
        return 1

    fine()
    assert seen == ["Running", "Completed"]


def test_on_crashed_runs_for_a_crashed_flow_and_on_failure_does_not():
    seen = []

    @flow(on_crashed=[lambda f, r, s: seen.append(("crashed", s.name))],
          on_failure=[lambda f, r, s: seen.append(("failure", s.name))])
    def interrupted():
        raise KeyboardInterrupt

    try:
        interrupted()
    except KeyboardInterrupt:
        pass
    assert seen == [("crashed", "Crashed")]


def test_on_cancellation_is_accepted_and_runs_for_a_cancelled_state():
    from sdk.states import Cancelled

    seen = []

    @flow(on_cancellation=[lambda f, r, s: seen.append(s.name)])
    def gives_up():
        return Cancelled(message="not today")

    assert gives_up(return_state=True).is_cancelled()
    assert seen == ["Cancelled"]


def test_hook_kwargs_through_partial_and_with_options():
    data = {}

    def my_hook(task_obj, task_run, state, **kwargs):
        data.update(state=state, **kwargs)

    @task
    def bad_task():
        raise ValueError("meh")

    @flow
    def ok_with_failure_flow(x: str = "foo", y: int = 42):
        bad_task_with_a_hook = bad_task.with_options(on_failure=[partial(my_hook, **dict(x=x, y=y))])
        # a tuple mixing a value and a state: the flow completes and returns both
        return "bar", bad_task_with_a_hook(return_state=True)

    bar, task_run_state = ok_with_failure_flow()
    assert bar == "bar" and task_run_state.is_failed()
    assert data == {"x": "foo", "y": 42, "state": task_run_state}


def test_a_hook_that_raises_does_not_change_the_state():
    @task(on_completion=[lambda t, r, s: 1 / 0])
    def fine():
        return Completed(message="done")

    assert fine(return_state=True).is_completed()
