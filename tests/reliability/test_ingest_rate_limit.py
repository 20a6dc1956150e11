"""Requests per API key per second on POST /api/events/: 429 with Retry-After, honoured by the SDK."""
from __future__ import annotations

import re

import httpx
import pytest

from sdk import events
from sdk.shipping import ShippingSink
from tests.reliability.servers import server_with
from tests.shipping.helpers import log_event
from tests.shipping.live_server import wait_until
from tests.api.conftest import client_with_key


def post_empty(client):
    return client.post("/api/events/", {"events": []}, format="json")


def test_over_the_rate_is_429_with_retry_after(db, settings):
    settings.ORCHESTRATOR_INGEST_RATE_PER_KEY = 0.5  # burst of 1
    client = client_with_key("ingest")
    assert post_empty(client).status_code == 200
    refused = post_empty(client)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "error" in refused.json()


def test_the_rate_is_per_key(db, settings):
    settings.ORCHESTRATOR_INGEST_RATE_PER_KEY = 0.5
    first, second = client_with_key("ingest"), client_with_key("ingest")
    assert post_empty(first).status_code == 200
    assert post_empty(first).status_code == 429
    assert post_empty(second).status_code == 200


def test_rate_zero_means_no_limit(db, settings):
    settings.ORCHESTRATOR_INGEST_RATE_PER_KEY = 0
    client = client_with_key("ingest")
    assert all(post_empty(client).status_code == 200 for _ in range(20))


def refused_429(server) -> float:
    text = httpx.get(server.url.removesuffix("/api") + "/metrics", timeout=10).text
    match = re.search(r'^orchestrator_batches_refused_total\{status="429"\} (\S+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.mark.slow
def test_sdk_waits_retry_after_and_delivers_everything(tmp_path):
    env = {"ORCHESTRATOR_INGEST_RATE_PER_KEY": "2", "ORCHESTRATOR_METRICS": "true"}  # burst of 4
    with server_with(env, scope="ingest") as server:
        sink = ShippingSink(server.url, server.key, tmp_path, register_atexit=False, batch_size=10,
                            flush_interval=0.01, max_backoff=0.05)
        old = events.set_sink(sink)
        try:
            sent = [log_event(f"line {i}") for i in range(120)]  # 12 batches: 8 over the burst
            for event in sent:
                events.emit(event)
            wait_until(lambda: events.flush(1.0), 90, message="every batch acknowledged")
        finally:
            sink.close(1)
            events.set_sink(old)
        assert server.db.count("orchestrator_log") == len(sent)
        # Ignoring Retry-After (backing off 0.05 s) would draw a 429 every few tens of milliseconds.
        assert 1 <= refused_429(server) <= 12
