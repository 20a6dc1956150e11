"""Prefect's "pass inputs to a workflow" page (how-to-guides/workflows/pass-inputs), in our words:
flow parameters are validated against their annotations before the run starts."""
from __future__ import annotations

import pytest
from pydantic import BaseModel

from sdk import flow
from sdk.exceptions import ParameterTypeError
from tests.sdk.conftest import created, state_names


@flow
def greet(name: str = "World"):
    return f"Hello, {name}!"


def test_a_parameter_is_passed_by_keyword():
    assert greet(name="Marvin") == "Hello, Marvin!"
    assert greet() == "Hello, World!"


def test_a_wrong_type_fails_the_run_with_a_validation_error(sink):
    with pytest.raises(ParameterTypeError, match="name: Input should be a valid string"):
        greet(name=1)
    run = created(sink, "flow_run", "greet")[-1]
    # Pending straight to Failed: the run never entered Running, as the flows page says.
    assert state_names(sink, run["flow_run_id"]) == ["Pending", "Failed"]


def test_the_failed_state_says_why():
    state = greet(name=1, return_state=True)
    assert state.is_failed()
    assert state.message.startswith("Validation of flow parameters failed with error: ParameterTypeError: "
                                    "Flow run received invalid parameters:\n - name:")
    with pytest.raises(ParameterTypeError):
        state.result()


def test_the_body_does_not_run_when_validation_fails():
    calls = []

    @flow
    def count(n: int):
        calls.append(n)

    count(n="not a number", return_state=True)
    assert calls == []


def test_validate_parameters_false_turns_validation_off():
    @flow(validate_parameters=False)
    def greet_anything(name: str = "World"):
        return f"Hello, {name}!"

    assert greet_anything(name=1) == "Hello, 1!"


class Model(BaseModel):
    a: int
    b: str


def test_a_pydantic_model_parameter_is_coerced_from_a_dict():
    @flow
    def takes_model(model: Model):
        return model

    result = takes_model(model={"a": "3", "b": "fine"})
    assert result == Model(a=3, b="fine")


def test_a_pydantic_model_with_a_wrong_field_fails_naming_the_field():
    @flow
    def flow_that_validates_parameters(model: Model): ...

    with pytest.raises(ParameterTypeError, match=r"model\.a: Input should be a valid integer"):
        flow_that_validates_parameters(model={"a": "WRONG", "b": "fine"})


def test_lax_coercion_turns_a_numeric_string_into_an_int():
    @flow
    def double(x: int):
        return x * 2

    assert double("21") == 42


def test_every_bad_parameter_is_named():
    @flow
    def two(x: int, y: float):
        return x, y

    with pytest.raises(ParameterTypeError) as info:
        two("a", "b")
    assert " - x: " in str(info.value) and " - y: " in str(info.value)


def test_a_flow_without_annotations_has_no_validator():
    @flow
    def plain(x, y=2):
        return x, y

    assert plain.parameter_validator is None
    assert plain("anything") == ("anything", 2)


def test_parameter_validation_failure_runs_the_failure_hook():
    seen = []

    @flow(on_failure=[lambda f, run, state: seen.append(state.name)])
    def typed(x: int):
        return x

    typed(x="nope", return_state=True)
    assert seen == ["Failed"]


def test_without_pydantic_validation_is_skipped_with_one_warning():
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = """
import sys, warnings
sys.modules["pydantic"] = None  # as if pydantic were not installed
warnings.simplefilter("always")
from sdk import flow

@flow
def greet(name: str = "World"):
    return f"Hello, {name}!"

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(greet(name=1), greet(name=2))
print(len([w for w in caught if "pydantic is not installed" in str(w.message)]))
"""
    root = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if k != "ORCHESTRATOR_API_URL"}
    env["PYTHONPATH"] = str(root)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["Hello, 1! Hello, 2!", "1"]
