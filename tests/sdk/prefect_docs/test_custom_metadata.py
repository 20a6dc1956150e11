"""Prefect's "customize workflow metadata" page (how-to-guides/workflows/custom-metadata): names,
descriptions (the docstring by default) and flow run names from a template or a function."""
from __future__ import annotations

import datetime

from sdk import flow
from tests.sdk.conftest import created


def test_name_and_description():
    @flow(name="My Flow", description="My flow with a name and description")
    def my_workflow() -> str:
        return "Hello, world!"

    assert (my_workflow.name, my_workflow.description) == ("My Flow", "My flow with a name and description")


def test_defaults_are_the_function_name_and_docstring():
    @flow
    def my_workflow() -> str:
        """Says hello."""
        return "Hello, world!"

    assert (my_workflow.name, my_workflow.description) == ("my-workflow", "Says hello.")


def test_flow_run_name_template_uses_the_inputs(sink):
    @flow(flow_run_name="hello-{name}-on-{date:%A}")
    def my_workflow(name: str, date: datetime.datetime):
        return f"I said hello to {name} on {date:%A}!"

    assert my_workflow(name="marvin", date=datetime.datetime(2024, 1, 1)) == "I said hello to marvin on Monday!"
    assert created(sink, "flow_run")[-1]["name"] == "hello-marvin-on-Monday"


def test_flow_run_name_from_a_function(sink):
    def generate_flow_run_name():
        date = datetime.datetime.now(datetime.timezone.utc)
        return f"{date:%A}-is-a-nice-day"

    @flow(flow_run_name=generate_flow_run_name)
    def my_workflow(name: str):
        return f"Hello, {name}!"

    my_workflow(name="marvin")
    assert created(sink, "flow_run")[-1]["name"].endswith("-is-a-nice-day")
