"""The OpenAPI schema describes what the API answers: error statuses, paginated lists under a
run, and query parameters whose patterns are exactly what the filters accept."""
from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from api.filters import LEVEL_PATTERN, STATE_PATTERN
from tests.api.factories import make_flow_run, make_state, make_task_run


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_documents_its_json_errors(schema):
    for path, method, operation in operations(schema):
        for status in ("400", "401", "403", "404", "503"):
            assert status in operation["responses"], (method, path, status)
        assert "Retry-After" in operation["responses"]["503"]["headers"], (method, path)


def test_ingestion_documents_413_and_429_with_retry_after(schema):
    responses = schema["paths"]["/api/events/"]["post"]["responses"]
    assert {"413", "429"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]


@pytest.mark.parametrize("path", ["/api/flow-runs/{id}/states/", "/api/task-runs/{id}/states/",
                                  "/api/flow-runs/{id}/task-runs/"])
def test_lists_under_a_run_are_paginated_arrays(schema, path):
    ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][ok["$ref"].rsplit("/", 1)[-1]]
    assert component["properties"]["results"]["type"] == "array"
    assert {p["name"] for p in schema["paths"][path]["get"]["parameters"]} >= {"cursor", "page_size"}


def parameter(schema, path: str, name: str) -> dict:
    return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]


def test_state_and_level_filters_carry_their_patterns(schema):
    assert parameter(schema, "/api/flow-runs/", "state")["pattern"] == STATE_PATTERN
    assert parameter(schema, "/api/task-runs/", "state")["pattern"] == STATE_PATTERN
    assert parameter(schema, "/api/logs/", "level")["pattern"] == LEVEL_PATTERN


@pytest.mark.parametrize("value", ["FAILED", "Failed", "failed", "timedout", "FAILED,Crashed,cached", "TimedOut"])
def test_state_values_the_pattern_allows_are_accepted(api, value):
    assert re.match(STATE_PATTERN, value)
    assert api.get(f"/api/flow-runs/?state={value}").status_code == 200


@pytest.mark.parametrize("value", ["", "fAiLeD", "FAILED,", " FAILED", "EXPLODED", "FAILED,,Crashed"])
def test_state_values_outside_the_pattern_are_400(api, value):
    assert not re.match(STATE_PATTERN, value)
    assert api.get(f"/api/flow-runs/?state={value}").status_code == 400


@pytest.mark.parametrize("value", ["0", "30", "32767", "WARNING", "warning", "WARN", "critical"])
def test_level_values_the_pattern_allows_are_accepted(api, value):
    assert re.match(LEVEL_PATTERN, value)
    assert api.get(f"/api/logs/?level={value}").status_code == 200


@pytest.mark.parametrize("value", ["", "030", "32768", "-1", "Warning", "LOUD", "3.0"])
def test_level_values_outside_the_pattern_are_400(api, value):
    assert not re.match(LEVEL_PATTERN, value)
    assert api.get(f"/api/logs/?level={value}").status_code == 400


@pytest.mark.parametrize("query", ["flow_run=", "started_after=", "page_size=0", "page_size=x", "page_size=1&page_size=2"])
def test_typed_empty_or_repeated_parameters_are_400(api, query):
    assert api.get(f"/api/task-runs/?{query}").status_code == 400


def test_a_timeline_entry_and_a_task_run_under_a_flow_run_have_every_required_field(api, schema):
    flow_run = make_flow_run()
    make_state(flow_run, "PENDING", "Pending")
    make_task_run(flow_run)
    timeline = api.get(f"/api/flow-runs/{flow_run.id}/states/").json()["results"]
    task_runs = api.get(f"/api/flow-runs/{flow_run.id}/task-runs/").json()["results"]
    for items, component in ((timeline, "StateRecord"), (task_runs, "TaskRun")):
        required = set(schema["components"]["schemas"][component]["required"])
        assert items and all(required <= set(item) for item in items), component
