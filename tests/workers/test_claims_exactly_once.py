"""Exactly once with real parts: concurrent claims on a live server, and a message delivered twice."""
from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from tests.shipping.live_server import wait_until
from tests.workers.harness import Stack

pytestmark = pytest.mark.redis


def scheduled_run(stack: Stack, task_key: str, parameters: dict) -> str:
    run_id = str(uuid.uuid4())
    response = stack.admin.post("/task-runs/", json={"id": run_id, "task_key": task_key, "task_name": "add",
                                                     "name": "add-claims", "parameters": parameters})
    assert response.status_code == 201, response.text
    return run_id


def test_concurrent_claims_of_one_dispatch_grant_exactly_one(redis_stack):
    # No worker serves this key: only the claims below compete for the run.
    run_id = scheduled_run(redis_stack, f"nobody-serves-{uuid.uuid4().hex[:8]}", {})
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def claim(n: int) -> None:
        with httpx.Client(base_url=redis_stack.server.url, timeout=30,
                          headers={"Authorization": f"Bearer {redis_stack.ingest_key}"}) as client:
            start.wait()
            if n % 2:  # the batch endpoint and the single one compete for the same dispatch
                answer = client.post("/claims/", json={"worker": f"w:{n}", "claims": [
                    {"kind": "task", "id": run_id, "dispatch": 1}]})
                outcomes.append(answer.json()["claims"][0]["outcome"])
            else:
                answer = client.post(f"/task-runs/{run_id}/claim/", json={"worker": f"w:{n}", "dispatch": 1})
                outcomes.append(answer.json()["outcome"])

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["claimed"] + ["taken"] * 7


def test_a_message_delivered_twice_runs_once(redis_stack, redis_worker):
    from celery import Celery

    from orchestrator.queues import queue_name
    from tests.workers.served import add

    run_id = scheduled_run(redis_stack, add.task_key, {"a": 2, "b": 3})  # the server sends the first message
    app = Celery("duplicate", broker=redis_stack.broker, set_as_current=False)
    app.conf.update(task_serializer="json", accept_content=["json"])
    kwargs = {"kind": "task", "run_id": run_id, "key": add.task_key, "dispatch": 1,
              "run": {"name": "add-claims", "parameters": {"a": 2, "b": 3}, "run_count": 0, "flow_run_id": None,
                      "tags": []}}
    app.send_task("orchestrator.execute_run", kwargs=kwargs,
                  queue=queue_name("task", add.task_key, redis_stack.prefix))
    done = redis_stack.wait_for_state(run_id, {"Completed", "Failed", "Crashed"})
    assert (done["state"]["name"], done["run_count"]) == ("Completed", 1)
    answer = redis_stack.admin.get(f"/task-runs/{run_id}/wait/", params={"timeout": 10}).json()
    assert answer["result"] == 5
    # The duplicate was refused by its claim, not run: the timeline has one attempt.
    wait_until(lambda: f"task run {run_id} dispatch 1 not claimed" in redis_stack.worker_logs(), 30, 0.05,
               "the worker to refuse the duplicate")
    assert [s["name"] for s in redis_stack.states(run_id)] == ["Scheduled", "Running", "Completed"]
