"""Hostile input through HTTP: what one client sends never breaks what others read, and
bodies, pages and searches stay bounded."""
from __future__ import annotations

import gzip
import json
import uuid

import pytest
from django.db import connection

from orchestrator.models import FlowRun, FlowRunState, Log
from tests.api.factories import make_flow_run, make_log, make_task_run
from tests.orchestrator.event_factory import at, flow_run_created, log, new_id

TOO_DEEP = "[" * 995 + "]" * 995  # what a row stored before the depth limit could hold


def store_raw_json(table: str, column: str, text: str, row_id) -> None:
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    pk = str(row_id) if connection.vendor == "postgresql" else uuid.UUID(str(row_id)).hex
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s{cast} WHERE id = %s", [text, pk])


@pytest.fixture
def unreadable_run(db) -> FlowRun:
    """A flow run (with a task run and a failed state) whose JSON columns nest too deeply to decode."""
    run = make_flow_run()
    make_flow_run(name="a readable neighbour")
    task_run = make_task_run(run)
    state = FlowRunState.objects.create(id=uuid.uuid4(), flow_run=run, type="FAILED", name="Failed",
                                        timestamp=run.created, error={"type": "E"})
    store_raw_json("orchestrator_flowrun", "parameters", TOO_DEEP, run.id)
    store_raw_json("orchestrator_taskrun", "parameters", TOO_DEEP, task_run.id)
    store_raw_json("orchestrator_flowrunstate", "error", TOO_DEEP, state.id)
    return run


def test_an_undecodable_row_shows_as_unreadable_in_api_lists_and_its_own_page(api, unreadable_run):
    runs = api.get("/api/flow-runs/")
    assert runs.status_code == 200
    assert {r["name"]: r["parameters"] for r in runs.json()["results"]} == {
        "brave-otter": "unreadable", "a readable neighbour": {}}
    assert api.get(f"/api/flow-runs/{unreadable_run.id}/").json()["parameters"] == "unreadable"
    assert api.get("/api/task-runs/").json()["results"][0]["parameters"] == "unreadable"
    assert api.get(f"/api/flow-runs/{unreadable_run.id}/task-runs/").status_code == 200
    assert api.get(f"/api/flow-runs/{unreadable_run.id}/states/").json()["results"][0]["error"] == "unreadable"


def test_an_undecodable_row_does_not_break_the_admin_list_or_its_page(admin_client, unreadable_run):
    assert admin_client.get("/admin/orchestrator/flowrun/").status_code == 200
    page = admin_client.get(f"/admin/orchestrator/flowrun/{unreadable_run.id}/change/")
    assert page.status_code == 200 and "unreadable" in page.content.decode()
    assert admin_client.get("/admin/orchestrator/taskrun/").status_code == 200


def test_an_undecodable_row_does_not_break_the_dashboard(admin_client, unreadable_run):
    page = admin_client.get("/")
    assert page.status_code == 200
    assert "a readable neighbour" in page.content.decode()


def test_ingested_rows_record_the_name_of_the_key_that_sent_them(db):
    from tests.api.conftest import client_with_key

    client = client_with_key("ingest")
    fr = new_id()
    body = {"events": [flow_run_created(fr), log(1, at(1), "hi", flow_run_id=fr)]}
    assert client.post("/api/events/", body, format="json").json()["accepted"] == 2
    assert FlowRun.objects.get(id=fr).stored_by == "test-ingest"
    assert Log.objects.get().stored_by == "test-ingest"


def post_gzip(client, raw: bytes):
    return client.generic("POST", "/api/events/", gzip.compress(raw), content_type="application/json",
                          HTTP_CONTENT_ENCODING="gzip")


def test_a_gzip_bomb_of_tiny_objects_is_refused_before_it_is_decoded(ingest_api, settings):
    tiny_objects = b'{"events":[' + b"{}," * (16 * 1024 * 1024 // 3 - 10) + b"{}]}"
    body = gzip.compress(tiny_objects)
    assert len(body) < 64 * 1024
    response = post_gzip(ingest_api, tiny_objects)
    assert response.status_code == 413
    assert "JSON values" in response.json()["error"]


def test_commas_and_brackets_inside_strings_do_not_count_as_values(ingest_api, settings):
    settings.ORCHESTRATOR_MAX_BATCH_VALUES = 1000
    fr = new_id()
    body = json.dumps({"events": [log(1, at(1), "a,{[" * 5000, flow_run_id=fr)]}).encode()
    response = post_gzip(ingest_api, body)
    assert response.status_code == 200 and response.json()["accepted"] == 1


def test_a_batch_over_the_value_budget_is_refused_with_413(ingest_api, settings):
    settings.ORCHESTRATOR_MAX_BATCH_VALUES = 1000
    body = json.dumps({"events": [flow_run_created(new_id(), parameters={"xs": list(range(2000))})]}).encode()
    response = ingest_api.generic("POST", "/api/events/", body, content_type="application/json")
    assert response.status_code == 413
    assert "the limit is 1000" in response.json()["error"]


MIB = 1024 * 1024


def test_log_lists_cut_huge_messages_and_the_detail_has_them_whole(api, db):
    record = make_log("x" * MIB)
    item = api.get("/api/logs/?page_size=1000").json()["results"][0]
    assert len(item["message"]) == 4096 and item["message"].endswith("…")
    assert item["truncated"] == ["message"]
    whole = api.get(f"/api/logs/{record.id}/").json()
    assert len(whole["message"]) == MIB and "truncated" not in whole
    assert api.get("/api/logs/not-a-uuid/").status_code == 404


def test_run_lists_replace_huge_parameters_and_the_detail_has_them_whole(api, db):
    run = make_flow_run(parameters={"rows": ["y" * 1000] * 100})
    item = api.get("/api/flow-runs/").json()["results"][0]
    assert item["parameters"] == {"truncated": True, "characters": len(json.dumps(run.parameters, separators=(",", ":")))}
    assert item["truncated"] == ["parameters"]
    assert api.get(f"/api/flow-runs/{run.id}/").json()["parameters"] == run.parameters


def test_state_timelines_cut_huge_errors_and_the_entry_has_it_whole(api, db):
    run = make_flow_run()
    error = {"type": "E", "message": "m", "traceback": "t" * MIB}
    entry = FlowRunState.objects.create(id=uuid.uuid4(), flow_run=run, type="FAILED", name="Failed",
                                        timestamp=run.created, message="z" * MIB, error=error)
    item = api.get(f"/api/flow-runs/{run.id}/states/").json()["results"][0]
    assert item["truncated"] == ["message", "error"] and len(item["message"]) == 4096
    whole = api.get(f"/api/flow-runs/{run.id}/states/{entry.id}/").json()
    assert whole["error"] == error and len(whole["message"]) == MIB
    assert api.get(f"/api/flow-runs/{run.id}/states/{uuid.uuid4()}/").status_code == 404


def test_a_page_ends_at_the_byte_budget_and_next_continues_without_gaps(api, db, monkeypatch):
    from api import list_limits

    monkeypatch.setattr(list_limits, "PAGE_BYTES", 20_000)
    runs = {str(make_flow_run(name=f"run-{i}", parameters={"blob": "p" * 5000}).id) for i in range(12)}
    seen: list[str] = []
    url = "/api/flow-runs/?page_size=500"
    pages = 0
    while url:
        page = api.get(url).json()
        assert len(page["results"]) <= 4
        seen += [r["id"] for r in page["results"]]
        url, pages = page["next"], pages + 1
        assert pages <= 12
    assert sorted(seen) == sorted(runs) and len(seen) == len(runs)


def test_log_search_text_is_limited_to_200_characters(api, db):
    assert api.get("/api/logs/", {"q": "a" * 200}).status_code == 200
    response = api.get("/api/logs/", {"q": "a" * 201})
    assert response.status_code == 400 and "q" in response.json()["error"]


def test_log_search_is_served_by_a_trigram_index_on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("the trigram index is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = Log.objects.filter(message__icontains="chunk 17").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "log_message_trgm" in plan, plan
