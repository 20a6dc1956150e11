"""Prefect's "access runtime information" page (how-to-guides/workflows/access-runtime-info):
`runtime.flow_run.name` inside a run, None outside."""
from __future__ import annotations

from sdk import flow
from sdk.runtime import flow_run


@flow
def moody_workflow(name: str):
    return f"I wish my parents had named me {name} instead of {flow_run.name}."


def test_flow_run_name_is_the_name_of_the_current_run():
    state = moody_workflow("Marvin", return_state=True)
    run_name = state.result().rsplit(" ", 1)[-1].rstrip(".")
    assert state.result() == f"I wish my parents had named me Marvin instead of {run_name}."
    assert run_name != "None"


def test_runtime_attributes_are_none_outside_a_run():
    assert flow_run.name is None
    assert flow_run.id is None
