"""Runs whose parameters could not be stored as JSON are marked so (the SDK says which; the server keeps it)."""
from __future__ import annotations

import uuid

import pytest

from orchestrator.ingest import ingest_batch
from orchestrator.models import FlowRun, TaskRun
from sdk.rendering import PartlyStored, render_parameters


def test_plain_json_parameters_render_as_a_plain_dict():
    rendered = render_parameters({"a": 1, "b": "x", "c": [1, {"d": None}], "e": (1, 2), "f": 1.5})
    assert type(rendered) is dict


@pytest.mark.parametrize("value", [object(), {1, 2}, float("nan"), "x" * 20_000, {1: "int key"}, [object()]])
def test_values_that_are_not_themselves_once_rendered_are_named(value):
    rendered = render_parameters({"ok": 1, "bad": value})
    assert type(rendered) is PartlyStored and rendered.unstored == ("bad",)


def test_the_created_event_carries_the_names(monkeypatch):
    from sdk import events, flow, task
    from sdk.events import MemorySink

    sink = MemorySink()
    old = events.set_sink(sink)
    try:
        @task
        def t(frame, n):
            return n

        @flow
        def f(config):
            return t(object(), 1)

        f({1, 2})
    finally:
        events.set_sink(old)
    (task_created,) = sink.of_type("task_run.created")
    (flow_created,) = sink.of_type("flow_run.created")
    assert task_created["unstored_parameters"] == ("frame",)
    assert flow_created["unstored_parameters"] == ("config",)


@pytest.mark.django_db
def test_ingestion_stores_the_names_on_the_run():
    task_run_id, flow_run_id = str(uuid.uuid4()), str(uuid.uuid4())
    common = {"occurred": "2026-11-26T10:00:00+00:00", "seq": 0}
    result = ingest_batch([
        {"id": str(uuid.uuid4()), "type": "flow_run.created", "flow_run_id": flow_run_id, "flow_name": "f",
         "unstored_parameters": ["config"], **common},
        {"id": str(uuid.uuid4()), "type": "task_run.created", "task_run_id": task_run_id, "task_key": "t-1",
         "unstored_parameters": ["frame"], **common},
        {"id": str(uuid.uuid4()), "type": "task_run.created", "task_run_id": str(uuid.uuid4()), "task_key": "t-1",
         "unstored_parameters": "frame", **common},
    ])
    assert result.accepted == 2 and result.rejected[0]["index"] == 2
    assert TaskRun.objects.get(pk=task_run_id).unstored_parameters == ["frame"]
    assert FlowRun.objects.get(pk=flow_run_id).unstored_parameters == ["config"]
