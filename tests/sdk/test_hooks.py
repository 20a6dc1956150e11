"""on_completion / on_failure hooks on tasks and flows."""
from __future__ import annotations

import pytest

from sdk import flow, task


def test_task_on_completion_hook_gets_task_run_and_state():
    calls = []

    @task(on_completion=[lambda t, run, state: calls.append((t.name, run.name, run.run_count, state.name))])
    def ok():
        return 1

    ok()
    assert len(calls) == 1
    name, run_name, run_count, state_name = calls[0]
    assert name == "ok" and run_name.startswith("ok-") and run_count == 1 and state_name == "Completed"


def test_task_on_failure_hook_runs_once_after_retries():
    calls = []

    @task(retries=2, on_failure=[lambda t, run, state: calls.append((run.run_count, state.name))])
    def bad():
        raise ValueError("x")

    with pytest.raises(ValueError):
        bad()
    assert calls == [(3, "Failed")]


def test_on_failure_is_not_called_on_success_and_vice_versa():
    calls = []

    @task(on_completion=[lambda *a: calls.append("done")], on_failure=[lambda *a: calls.append("failed")])
    def ok():
        return 1

    ok()
    assert calls == ["done"]


def test_task_run_in_hook_exposes_id():
    ids = []

    @task(on_completion=[lambda t, run, state: ids.append(run.id)])
    def ok():
        return 1

    ok()
    assert len(ids[0]) == 36


def test_hook_that_raises_does_not_change_the_result():
    def broken(*args):
        raise RuntimeError("hook broke")

    @task(on_completion=[broken])
    def ok():
        return 5

    assert ok() == 5


def test_flow_hooks_get_flow_flow_run_and_state():
    calls = []

    @flow(on_completion=[lambda f, run, state: calls.append(("ok", f.name, state.name))],
          on_failure=[lambda f, run, state: calls.append(("bad", f.name, state.name))])
    def f(fail):
        if fail:
            raise ValueError("x")

    f(False)
    with pytest.raises(ValueError):
        f(True)
    assert calls == [("ok", "f", "Completed"), ("bad", "f", "Failed")]


def test_async_hook_is_awaited():
    calls = []

    async def record(t, run, state):
        calls.append(state.name)

    task(on_completion=[record], name="t")(lambda: 1)()
    assert calls == ["Completed"]
