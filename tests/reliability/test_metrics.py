"""GET /metrics: Prometheus text format, off unless ORCHESTRATOR_METRICS, optionally behind a token."""
from __future__ import annotations

import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.ingest import ingest_batch
from orchestrator.metrics import LIVE_WEBSOCKET_CLIENTS
from tests.api.factories import make_flow_run, make_task_run, make_worker
from tests.orchestrator.event_factory import at, completed_task_run, flow_run_created


@pytest.fixture
def metrics_on(settings):
    settings.ORCHESTRATOR_METRICS = True
    settings.ORCHESTRATOR_METRICS_TOKEN = ""
    return settings


def samples(response) -> dict[tuple[str, tuple], float]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_are_off_by_default(client, db, settings):
    settings.ORCHESTRATOR_METRICS = False
    assert client.get("/metrics").status_code == 404


def test_metrics_report_runs_by_state(client, db, metrics_on):
    flow_run = make_flow_run(state=("FAILED", "Failed"))
    make_task_run(flow_run, state=("COMPLETED", "Completed"))
    make_task_run(flow_run, state=("COMPLETED", "Cached"))
    found = samples(client.get("/metrics"))
    assert found[("orchestrator_runs", (("kind", "flow"), ("state", "FAILED")))] == 1
    assert found[("orchestrator_runs", (("kind", "task"), ("state", "COMPLETED")))] == 2


def test_metrics_count_events_ingested_and_rejected(client, db, metrics_on):
    before = samples(client.get("/metrics"))
    flow_run_id = str(uuid.uuid4())
    _, events = completed_task_run(flow_run_id)
    ingest_batch([flow_run_created(flow_run_id, at(0)), *events, {"id": "not-an-event"}])
    after = samples(client.get("/metrics"))

    def grew(name: str) -> float:
        return after[(name, ())] - before.get((name, ()), 0)

    assert grew("orchestrator_events_ingested_total") == 5
    assert grew("orchestrator_events_rejected_total") == 1
    assert grew("orchestrator_ingest_batch_seconds_count") == 1


def test_metrics_report_live_websocket_clients_from_the_shared_gauge(client, db, metrics_on):
    LIVE_WEBSOCKET_CLIENTS.inc(3)
    try:
        assert samples(client.get("/metrics"))[("orchestrator_live_websocket_clients", ())] >= 3
    finally:
        LIVE_WEBSOCKET_CLIENTS.dec(3)


def test_metrics_report_workers_online_and_queue_depth(client, db, metrics_on):
    make_worker("host:1")
    found = samples(client.get("/metrics"))
    assert found[("orchestrator_workers_online", ())] == 1
    assert ("orchestrator_queue_depth", (("queue", "celery"),)) in found


def test_metrics_with_a_token_refuse_requests_without_it(client, db, metrics_on):
    metrics_on.ORCHESTRATOR_METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
