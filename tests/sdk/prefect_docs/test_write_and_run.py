"""Prefect's "write and run a workflow" page (how-to-guides/workflows/write-and-run): a flow is
called like a function; flows on instance, class and static methods; generator flows; tasks and
child flows."""
from __future__ import annotations

import random

from sdk import flow, task
from tests.sdk.conftest import created


@flow
def my_workflow() -> str:
    return "Hello, world!"


def test_calling_the_flow_returns_its_value(sink):
    assert my_workflow() == "Hello, world!"
    assert [e["flow_name"] for e in created(sink, "flow_run")] == ["my-workflow"]


class MyClass:
    @flow
    def my_instance_method(self):
        return "Hello, from an instance method!"

    @flow
    @classmethod
    def my_class_method(cls):
        return f"Hello, from a class method of {cls.__name__}!"

    @flow
    @staticmethod
    def my_static_method():
        return "Hello, from a static method!"


def test_flows_on_methods(sink):
    assert MyClass().my_instance_method() == "Hello, from an instance method!"
    assert MyClass.my_class_method() == "Hello, from a class method of MyClass!"
    assert MyClass().my_class_method() == "Hello, from a class method of MyClass!"
    assert MyClass.my_static_method() == "Hello, from a static method!"
    assert len(created(sink, "flow_run")) == 4


def test_a_classmethod_over_a_flow_also_binds_the_class():
    class Other:
        @classmethod
        @flow
        def build(cls, n: int):
            return cls.__name__, n

    assert Other.build("2") == ("Other", 2)


def test_a_generator_flow_yields_its_values_one_by_one(sink):
    @flow
    def generator():
        for i in range(10):
            yield i

    seen = []
    for val in generator():
        seen.append(val)
    assert seen == list(range(10))
    run_id = created(sink, "flow_run", "generator")[0]["flow_run_id"]
    final = [e for e in sink.of_type("flow_run.state") if e["flow_run_id"] == run_id][-1]
    assert final["state_name"] == "Completed"


def test_tasks_and_child_flows_organize_a_workflow(capsys, sink):
    @task
    def generate_a_number():
        return random.randint(0, 100)

    @flow
    def is_number_even(number: int):
        return number % 2 == 0

    @flow
    def even_or_odd():
        number = generate_a_number()
        print("The number is even" if is_number_even(number) else "The number is odd")

    even_or_odd()
    assert capsys.readouterr().out in ("The number is even\n", "The number is odd\n")
    parent = created(sink, "flow_run", "even-or-odd")[0]
    child = created(sink, "flow_run", "is-number-even")[0]
    assert child["parent_flow_run_id"] == parent["flow_run_id"]
    assert len(created(sink, "task_run", "generate_a_number")) == 1
