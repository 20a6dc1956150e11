"""Prefect's runtime context page (concepts/runtime-context): `sdk.runtime`'s submodules and
`FlowRunContext.get()` / `TaskRunContext.get()`."""
from __future__ import annotations

import pytest

from sdk import flow, runtime, task
from sdk.context import FlowRunContext, TaskRunContext, get_run_context
from sdk.exceptions import MissingContextError


def test_the_example_prints_names_deployment_none_and_the_flow_parameters(capsys):
    @flow(log_prints=True)
    def my_flow(x):
        print("My name is", runtime.flow_run.name)
        print("I belong to deployment", runtime.deployment.name)
        my_task(2)
        return runtime.flow_run.name

    @task
    def my_task(y):
        print("My name is", runtime.task_run.name)
        print("Flow run parameters:", runtime.flow_run.parameters)
        return runtime.task_run.name

    flow_run_name = my_flow(1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"My name is {flow_run_name}"
    assert lines[1] == "I belong to deployment None"
    assert lines[2].startswith("My name is my_task-")
    assert lines[3] == "Flow run parameters: {'x': 1}"


def test_runtime_values_inside_a_task():
    @task
    def inspect_run(y):
        return (runtime.task_run.id, runtime.task_run.name, runtime.task_run.parameters,
                runtime.task_run.run_count, runtime.flow_run.id, runtime.flow_run.flow_name)

    @flow
    def outer():
        state = inspect_run(5, return_state=True)
        return state.task_run_id, state.flow_run_id, state.result()

    task_run_id, flow_run_id, (tid, tname, params, count, fid, flow_name) = outer()
    assert (tid, fid) == (task_run_id, flow_run_id)
    assert tname.startswith("inspect_run-")
    assert params == {"y": 5} and count == 1 and flow_name == "outer"


def test_runtime_returns_empty_values_outside_a_run():
    assert runtime.flow_run.id is None and runtime.task_run.id is None
    assert runtime.flow_run.parameters == {} and runtime.task_run.tags == []
    assert runtime.deployment.id is None


def test_context_get_returns_none_outside_a_run():
    assert FlowRunContext.get() is None
    assert TaskRunContext.get() is None
    with pytest.raises(MissingContextError):
        get_run_context()


def test_get_run_context_prefers_the_task_run_and_flow_context_is_reachable_from_a_task():
    @task
    def which():
        return type(get_run_context()).__name__, FlowRunContext.get().flow.name, TaskRunContext.get().task.name

    @flow
    def holder():
        return which(), TaskRunContext.get()

    (kind, flow_name, task_name), task_ctx_in_flow = holder()
    assert (kind, flow_name, task_name) == ("TaskRunContext", "holder", "which")
    assert task_ctx_in_flow is None


def test_runtime_values_can_be_mocked_from_the_environment(monkeypatch):
    monkeypatch.setenv("PREFECT__RUNTIME__TASK_RUN__FAKE_KEY", "foo")
    monkeypatch.setenv("PREFECT__RUNTIME__FLOW_RUN__RUN_COUNT", "3")
    monkeypatch.setenv("ORCHESTRATOR__RUNTIME__FLOW_RUN__NAME", "mocked-name")
    assert runtime.task_run.fake_key == "foo"
    assert runtime.flow_run.run_count == 3  # cast to the type of the value it replaces
    assert runtime.flow_run.name == "mocked-name"

    @flow
    def inside():
        return runtime.flow_run.name, runtime.flow_run.run_count

    assert inside() == ("mocked-name", 3)
    with pytest.raises(AttributeError):
        runtime.flow_run.not_mocked_and_unknown
