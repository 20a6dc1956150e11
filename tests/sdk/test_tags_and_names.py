"""sdk.tags(), task tags, task_run_name."""
from __future__ import annotations

import pytest

from sdk import flow, tags, task

from .conftest import created


def test_tags_context_adds_tags_to_task_and_flow_runs(sink):
    @task(tags=["own"])
    def t():
        return 1

    @flow
    def f():
        with tags("inner"):
            t()

    with tags("outer", "shared"):
        f()
    (flow_run,) = created(sink, "flow_run", "f")
    (task_run,) = created(sink, "task_run", "t")
    assert list(flow_run["tags"]) == ["outer", "shared"]  # a tuple in memory, a JSON array on the wire
    assert list(task_run["tags"]) == ["own", "outer", "shared", "inner"]


def test_tags_leave_the_context_when_the_block_ends(sink):
    with tags("temporary"):
        pass
    task(lambda: 1, name="after")()
    assert list(created(sink, "task_run", "after")[0]["tags"]) == []


def test_tags_must_be_strings():
    with pytest.raises(TypeError):
        with tags(1):
            pass


def test_task_run_name_format_string_uses_parameters(sink):
    task(task_run_name="hello-{name}", name="greet")(lambda name: name)("ada")
    assert created(sink, "task_run", "greet")[0]["name"] == "hello-ada"


def test_task_run_name_callable(sink):
    task(task_run_name=lambda: "fixed", name="c")(lambda: 1)()
    assert created(sink, "task_run", "c")[0]["name"] == "fixed"


def test_task_run_name_callable_taking_parameters(sink):
    task(task_run_name=lambda parameters: f"n{parameters['x']}", name="c")(lambda x: x)(4)
    assert created(sink, "task_run", "c")[0]["name"] == "n4"


def test_default_task_run_name_is_task_name_and_three_hex(sink):
    task(lambda: 1, name="plain")()
    name = created(sink, "task_run", "plain")[0]["name"]
    assert name.startswith("plain-") and len(name) == len("plain-") + 3


def test_bad_task_run_name_template_is_a_clear_error():
    with pytest.raises(ValueError, match="missing"):
        task(task_run_name="{missing}", name="b")(lambda: 1)()
