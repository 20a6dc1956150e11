"""Prefect's flows concept page (concepts/flows): parameters are type-converted and validated
before the run, the parameter schema, generators returned or yielded, and how the final state
is determined (futures, states, tuples, named states).

No `from __future__ import annotations` here: the signature is shown as written."""

import inspect

import pytest

from sdk import flow, task
from sdk.exceptions import ParameterTypeError
from sdk.states import Completed, Failed
from tests.sdk.conftest import created, state_names


def test_log_prints_sends_prints_to_stdout(capsys):
    @flow(log_prints=True)
    def explain_flows():
        print("run any python code here!")
        print("encapsulate that business logic!")

    explain_flows()
    assert capsys.readouterr().out == "run any python code here!\nencapsulate that business logic!\n"


@flow
def schleeb(x: int, y: str, z: bool | None = None):
    return f"x: {x}, y: {y}, z: {z}"


def test_the_signature_is_the_functions():
    assert str(inspect.signature(schleeb)) == "(x: int, y: str, z: bool | None = None)"


def test_type_hints_convert_inputs():
    assert schleeb("1", "a", "true") == "x: 1, y: a, z: True"


def test_the_parameter_schema():
    schema = schleeb.parameters
    assert schema.title == "Parameters" and schema.type == "object"
    assert schema.required == ["x", "y"]
    assert schema.properties["x"] == {"type": "integer", "title": "x", "position": 0}
    assert schema.properties["y"]["type"] == "string"
    assert schema.properties["z"]["default"] is None
    assert schema.model_dump()["required"] == ["x", "y"]


def test_invalid_parameters_go_from_pending_to_failed_without_running(sink):
    with pytest.raises(ParameterTypeError):
        schleeb("not a number", "y")
    run_id = created(sink, "flow_run", "schleeb")[-1]["flow_run_id"]
    assert state_names(sink, run_id) == ["Pending", "Failed"]


def test_a_returned_generator_is_consumed_into_a_list(capsys):
    def gen():
        yield from [1, 2, 3]
        print("Generator consumed!")

    @flow
    def f():
        return gen()

    assert f() == [1, 2, 3]
    assert capsys.readouterr().out == "Generator consumed!\n"


def test_a_yielded_generator_is_not_consumed(capsys):
    def gen():
        yield from [1, 2, 3]
        print("Generator consumed!")

    @flow
    def f():
        yield gen()

    generator = next(f())
    assert capsys.readouterr().out == ""
    assert list(generator) == [1, 2, 3]
    assert capsys.readouterr().out == "Generator consumed!\n"


@task
def always_fails_task():
    raise ValueError("I fail successfully")


@task
def always_succeeds_task():
    return "success"


def test_returning_the_future_of_a_task_that_succeeds_completes():
    @flow
    def always_succeeds_flow():
        x = always_fails_task.submit().result(raise_on_failure=False)
        y = always_succeeds_task.submit(wait_for=[x])
        return y

    state = always_succeeds_flow(return_state=True)
    assert state.is_completed() and state.result() == "success"


def test_returning_futures_of_which_one_fails_fails():
    @flow
    def always_fails_flow():
        x = always_fails_task.submit()
        y = always_succeeds_task.submit()
        return x, y

    assert always_fails_flow(return_state=True).is_failed()


def test_returning_a_manual_state_decides_the_final_state():
    @flow
    def happy():
        always_fails_task.submit()
        y = always_succeeds_task.submit()
        if y.result() == "success":
            return Completed(message="I am happy with this result")
        return Failed(message="How did this happen!?")

    state = happy(return_state=True)
    assert state.is_completed() and state.message == "I am happy with this result"


def test_a_custom_named_state():
    @flow
    def my_flow(work_to_do: bool):
        if not work_to_do:
            return Completed(message="No work to do 💤", name="Skipped")
        return Completed(message="Work was done 💪")

    state = my_flow(work_to_do=False, return_state=True)
    assert (state.name, state.type.value, state.message) == ("Skipped", "COMPLETED", "No work to do 💤")
    assert str(state) == "Skipped('No work to do 💤', type=COMPLETED)"
    assert my_flow(work_to_do=True, return_state=True).name == "Completed"
