"""POST /api/task-runs/ (what `.delay()` calls): a Scheduled run, enqueued; idempotent by id; bad bodies are 400."""
from __future__ import annotations

import json
import uuid

import pytest

from orchestrator import retries
from orchestrator.models import BackgroundRun, TaskRun
from tests.api.conftest import client_with_key


@pytest.fixture(autouse=True)
def own_queues(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_QUEUE_PREFIX", f"t{uuid.uuid4().hex[:10]}")


def test_creates_a_scheduled_run_with_its_parameters(db):
    run_id = str(uuid.uuid4())
    response = client_with_key("ingest").post("/api/task-runs/", {
        "id": run_id, "task_key": "add-1", "task_name": "add", "name": "add-abc", "parameters": {"a": [1, {"b": None}]},
        "tags": ["nightly"],
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["id"], body["state"]["name"], body["parameters"], body["tags"]) == (run_id, "Scheduled", {"a": [1, {"b": None}]}, ["nightly"])
    background = BackgroundRun.objects.get(run_id=run_id)
    assert (background.kind, background.key, background.dispatch) == ("task", "add-1", 1)


def test_sending_it_twice_creates_one_run(db):
    client, run_id = client_with_key("ingest"), str(uuid.uuid4())
    body = {"id": run_id, "task_key": "add-1", "parameters": {}}
    assert client.post("/api/task-runs/", body, format="json").status_code == 201
    assert client.post("/api/task-runs/", body, format="json").status_code == 200
    assert TaskRun.objects.filter(pk=run_id).count() == 1
    assert BackgroundRun.objects.get(run_id=run_id).dispatch == 1


def test_waits_for_a_worker_until_one_serves_the_key(db):
    response = client_with_key("ingest").post("/api/task-runs/", {"task_key": "lonely-1"}, format="json")
    run = TaskRun.objects.get(pk=response.json()["id"])
    assert retries.waiting_for_worker(run) == "waiting for a worker that serves lonely-1"


@pytest.mark.parametrize("body,field", [
    ({}, "task_key"), ({"task_key": ""}, "task_key"), ({"task_key": "k", "parameters": [1]}, "parameters"),
    ({"task_key": "k", "id": "nope"}, "id"), ({"task_key": "k" * 300}, "task_key"), ({"task_key": "k", "tags": "x"}, "tags"),
    # JSON false or a number is no UUID (DRF's UUIDField alone would read it as uuid.UUID(int=...)).
    ({"task_key": "k", "id": False}, "id"), ({"task_key": "k", "flow_run_id": 7}, "flow_run_id"),
    ({"task_key": "k", "tags": [""]}, "tags"),
])
def test_bad_bodies_are_400_naming_the_field(db, body, field):
    response = client_with_key("ingest").post("/api/task-runs/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"]


def test_nul_and_unpaired_surrogates_are_stored_as_replacement_characters(db):
    parameters = {"a\u0000b": ["\ud800", "ok"]}
    body = json.dumps({"task_key": "k\u0000\udc00", "parameters": parameters})  # \u escapes: what a JSON client may send
    response = client_with_key("ingest").post("/api/task-runs/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    run = TaskRun.objects.get(pk=response.json()["id"])
    assert (run.task_key, run.parameters) == ("k\ufffd\ufffd", {"a\ufffdb": ["\ufffd", "ok"]})


def test_a_read_key_may_not_create_runs(db):
    assert client_with_key("read").post("/api/task-runs/", {"task_key": "k"}, format="json").status_code == 403


def test_an_id_of_a_run_that_is_not_a_background_run_is_409(db):
    from tests.api.factories import make_task_run

    run = make_task_run()
    response = client_with_key("ingest").post("/api/task-runs/", {"id": str(run.id), "task_key": "k"}, format="json")
    assert response.status_code == 409


def test_many_runs_in_one_request_each_get_a_status(db):
    from tests.api.factories import make_task_run

    client, existing, foreign = client_with_key("ingest"), str(uuid.uuid4()), make_task_run()
    assert client.post("/api/task-runs/", {"id": existing, "task_key": "k-1"}, format="json").status_code == 201
    new = str(uuid.uuid4())
    response = client.post("/api/task-runs/", {"runs": [
        {"id": new, "task_key": "k-1", "parameters": {"n": 1}}, {"id": existing, "task_key": "k-1"},
        {"task_key": ""}, {"id": str(foreign.id), "task_key": "k-1"},
    ]}, format="json")
    assert response.status_code == 200, response.content
    runs = response.json()["runs"]
    assert [r["status"] for r in runs] == [201, 200, 400, 409]
    assert runs[0]["id"] == new and "task_key" in runs[2]["error"] and "not a background run" in runs[3]["error"]
    assert TaskRun.objects.get(pk=new).state_name == "Scheduled"
    assert BackgroundRun.objects.get(run_id=new).parameters == {"n": 1}


@pytest.mark.parametrize("runs", ["x", [{"task_key": "k"}] * 1001])
def test_a_bad_batch_is_400(db, runs):
    response = client_with_key("ingest").post("/api/task-runs/", {"runs": runs}, format="json")
    assert response.status_code == 400 and "runs" in response.content.decode()
