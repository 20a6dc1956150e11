"""POST /api/events/ through the HTTP stack, with real API keys."""
from __future__ import annotations

import gzip
import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from api.models import APIKey
from orchestrator.models import FlowRun, Log, TaskRun
from tests.orchestrator.event_factory import at, completed_task_run, flow_run_created, log, new_id

pytestmark = pytest.mark.django_db
URL = "/api/events/"


def client_with(scope: str | None) -> APIClient:
    client = APIClient()
    if scope:
        _, raw = APIKey.issue("test", scope)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def client() -> APIClient:
    return client_with("ingest")


def post_json(client: APIClient, body, **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.generic("POST", URL, data, content_type="application/json", **headers)


def test_anonymous_request_is_refused_with_401():
    response = post_json(APIClient(), {"events": []})
    assert response.status_code == 401
    assert "error" in response.json()


def test_read_scope_key_is_refused_with_403():
    response = post_json(client_with("read"), {"events": []})
    assert response.status_code == 403


def test_admin_scope_key_may_ingest():
    response = post_json(client_with("admin"), {"events": []})
    assert response.status_code == 200


def test_empty_batch_answers_zero_counts(client):
    response = post_json(client, {"events": []})
    assert response.json() == {"accepted": 0, "duplicates": 0, "rejected": []}


def test_valid_batch_is_stored_and_counted(client):
    fr = new_id()
    tr, events = completed_task_run(fr)
    response = post_json(client, {"events": [flow_run_created(fr), *events]})
    assert response.status_code == 200
    assert response.json() == {"accepted": 5, "duplicates": 0, "rejected": []}
    assert TaskRun.objects.get(id=tr).state_name == "Completed"
    assert FlowRun.objects.filter(id=fr).exists()


def test_batch_sent_twice_counts_duplicates_the_second_time(client):
    fr = new_id()
    _, events = completed_task_run(fr)
    post_json(client, {"events": events})
    response = post_json(client, {"events": events})
    assert response.json() == {"accepted": 0, "duplicates": 4, "rejected": []}


def test_invalid_events_are_rejected_by_index_while_valid_ones_are_stored(client):
    fr = new_id()
    good = flow_run_created(fr)
    no_tz = {**flow_run_created(new_id()), "occurred": "2026-11-26T10:00:00"}
    response = post_json(client, {"events": [no_tz, good, {"type": "log"}]})
    body = response.json()
    assert response.status_code == 200
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [0, 2]
    assert "occurred" in body["rejected"][0]["error"]
    assert "`id`" in body["rejected"][1]["error"]
    assert FlowRun.objects.filter(id=fr).exists()


def test_unknown_event_type_is_rejected_naming_the_type(client):
    response = post_json(client, {"events": [{"id": new_id(), "type": "flow_run.exploded", "occurred": at(0), "seq": 0}]})
    assert "flow_run.exploded" in response.json()["rejected"][0]["error"]


def test_non_json_body_is_400_with_json_error(client):
    response = post_json(client, b"{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_invalid_utf8_body_is_400(client):
    response = post_json(client, b'{"events": ["\xff"]}')
    assert response.status_code == 400


def test_deeply_nested_json_is_400_not_500(client):
    response = post_json(client, b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400


@pytest.mark.parametrize("body", [[], {"event": []}, {"events": {}}, {"events": "x"}, "null"])
def test_wrong_body_shape_is_400(client, body):
    response = post_json(client, json.dumps(body) if not isinstance(body, str) else body)
    assert response.status_code == 400
    assert "events" in response.json()["error"]


@override_settings(ORCHESTRATOR_MAX_BATCH_EVENTS=3)
def test_batch_over_the_event_limit_is_413(client):
    events = [log(i, at(i), "x", flow_run_id=new_id()) for i in range(4)]
    response = post_json(client, {"events": events})
    assert response.status_code == 413
    assert "limit is 3" in response.json()["error"]
    assert not Log.objects.exists()


@override_settings(ORCHESTRATOR_MAX_BATCH_BYTES=1000)
def test_batch_over_the_byte_limit_is_413(client):
    response = post_json(client, {"events": [log(0, at(0), "x" * 2000, flow_run_id=new_id())]})
    assert response.status_code == 413


def test_gzip_body_is_accepted(client):
    fr = new_id()
    body = gzip.compress(json.dumps({"events": [flow_run_created(fr)]}).encode())
    response = post_json(client, body, HTTP_CONTENT_ENCODING="gzip")
    assert response.json()["accepted"] == 1
    assert FlowRun.objects.filter(id=fr).exists()


@override_settings(ORCHESTRATOR_MAX_BATCH_BYTES=100_000)
def test_gzip_bomb_is_413_without_inflating_it(client):
    bomb = gzip.compress(b'{"events": [' + b" " * 50_000_000 + b"]}")
    assert len(bomb) < 100_000
    response = post_json(client, bomb, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413


def test_corrupt_gzip_is_400(client):
    response = post_json(client, b"\x1f\x8b not really gzip", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 400
    assert "gzip" in response.json()["error"]


def test_unknown_content_encoding_is_415(client):
    response = post_json(client, b"{}", HTTP_CONTENT_ENCODING="br")
    assert response.status_code == 415


def test_message_over_one_mebibyte_is_rejected_per_index(client):
    response = post_json(client, {"events": [log(0, at(0), "x" * (1024 * 1024 + 1), flow_run_id=new_id())]})
    assert response.status_code == 200
    assert "`message`" in response.json()["rejected"][0]["error"]


def test_html_and_script_in_strings_are_stored_verbatim(client):
    fr = new_id()
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>&amp;\"'"
    events = [flow_run_created(fr, name=hostile, tags=[hostile]), log(1, at(1), hostile, flow_run_id=fr)]
    response = post_json(client, {"events": events})
    assert response.json()["accepted"] == 2
    assert FlowRun.objects.get(id=fr).name == hostile
    assert Log.objects.get(flow_run_id=fr).message == hostile


def test_nul_characters_and_lone_surrogates_do_not_cause_a_500(client):
    fr = new_id()
    body = json.dumps({"events": [log(0, at(0), "a\u0000b\ud800c", flow_run_id=fr)]})
    response = post_json(client, body)
    assert response.json()["accepted"] == 1
    assert Log.objects.get(flow_run_id=fr).message == "a\ufffdb\ufffdc"


def test_schema_documents_the_events_endpoint():
    response = client_with("admin").get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/events/" in response.content.decode()


def post_over_asgi(body: str, headers: dict):
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    return async_to_sync(AsyncClient().post)(URL, body, content_type="application/json", headers=headers)


@pytest.mark.django_db(transaction=True)
def test_asgi_request_is_served_on_a_long_lived_thread():
    _, raw = APIKey.issue("asgi", "ingest")
    fr = new_id()
    response = post_over_asgi(json.dumps({"events": [flow_run_created(fr)]}), {"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    assert FlowRun.objects.filter(id=fr).exists()


@pytest.mark.django_db(transaction=True)
def test_asgi_request_without_key_is_refused_with_401():
    response = post_over_asgi(json.dumps({"events": []}), {})
    assert response.status_code == 401


def test_garbage_collector_runs_again_after_a_batch(client):
    import gc

    post_json(client, {"events": [log(0, at(0), "x", flow_run_id=new_id())]})
    assert gc.isenabled()


def test_collector_pause_leaves_a_disabled_collector_disabled():
    import gc

    from api.views.events import CollectorPause

    gc.disable()
    try:
        with CollectorPause()():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collector_pause_ends_after_its_longest_time_even_with_batches_in_flight():
    import gc

    from api.views.events import CollectorPause

    pause = CollectorPause(longest=-1.0)  # always overdue
    with pause():
        with pause():
            assert not gc.isenabled()
        assert gc.isenabled()
    assert gc.isenabled()
