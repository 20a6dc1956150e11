"""Prometheus metrics of one server process, served at /metrics (docs/deploy.md).

Counters and histograms live in this process (scrape every server process);
runs by state, workers online and queue depth are read from the database and
the broker when scraped, so every process reports the same for those.

Other code records what it sees through the objects here, e.g. the websocket
consumer: `LIVE_WEBSOCKET_CLIENTS.inc()` on connect, `.dec()` on disconnect.
"""
from __future__ import annotations

import hmac
import logging
from pathlib import Path

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

EVENTS_INGESTED = Counter(
    "orchestrator_events_ingested", "Events stored by ingestion (first time seen)."
)
EVENTS_DUPLICATE = Counter(
    "orchestrator_events_duplicate", "Events received again (already stored, or repeated in a batch)."
)
EVENTS_REJECTED = Counter(
    "orchestrator_events_rejected", "Events refused by validation (reported per index in the batch answer)."
)
BATCHES_REFUSED = Counter(
    "orchestrator_batches_refused", "Whole batches refused before ingestion, by HTTP status.", ["status"]
)
INGEST_SECONDS = Histogram(
    "orchestrator_ingest_batch_seconds", "Time to validate and store one batch of events.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LIVE_WEBSOCKET_CLIENTS = Gauge(
    "orchestrator_live_websocket_clients", "Websocket clients connected to this process for live updates."
)


def record_batch(accepted: int, duplicates: int, rejected: int, seconds: float) -> None:
    EVENTS_INGESTED.inc(accepted)
    EVENTS_DUPLICATE.inc(duplicates)
    EVENTS_REJECTED.inc(rejected)
    INGEST_SECONDS.observe(seconds)


class StoredStateCollector(Collector):
    """Runs by state, workers online and broker queue depth, read when scraped."""

    def describe(self):
        # Registration asks for names; without this it would query the database at import time.
        yield GaugeMetricFamily("orchestrator_runs", "", labels=["kind", "state"])
        yield GaugeMetricFamily("orchestrator_workers_online", "")
        yield GaugeMetricFamily("orchestrator_queue_depth", "", labels=["queue"])

    def collect(self):
        from orchestrator.models import FlowRun, TaskRun, Worker

        runs = GaugeMetricFamily("orchestrator_runs", "Runs by kind and current state type.", labels=["kind", "state"])
        workers = GaugeMetricFamily("orchestrator_workers_online", "Task workers heard from recently.")
        try:
            for kind, model in (("flow", FlowRun), ("task", TaskRun)):
                rows = model.objects.order_by().values_list("state_type").annotate(n=Count("id"))
                for state_type, n in rows:
                    runs.add_metric([kind, state_type or "NONE"], n)
            workers.add_metric([], Worker.objects.recent().count())
        except Exception as exc:  # a scrape while the database is down still reports the process metrics
            log.warning("metrics: cannot read runs from the database: %s", exc)
        else:
            yield runs
            yield workers
        depth = queue_depths()
        if depth is not None:
            queues = GaugeMetricFamily("orchestrator_queue_depth", "Messages waiting in the broker.", labels=["queue"])
            for queue, n in depth.items():
                queues.add_metric([queue], n)
            yield queues


def queue_depths() -> dict[str, int] | None:
    """Messages waiting per Celery queue, for the Redis and embedded brokers; None when unknown."""
    url = getattr(settings, "CELERY_BROKER_URL", "") or ""
    names = getattr(settings, "ORCHESTRATOR_METRICS_QUEUES", ["celery"])
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
            try:
                return {name: int(client.llen(name)) for name in names}
            finally:
                client.close()
        if url == "filesystem://":
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
            # The embedded broker keeps one file per message, named after its queue.
            files = [p.name for p in folder.iterdir()] if folder.is_dir() else []
            return {name: sum(1 for f in files if f.endswith(f".{name}.msg")) for name in names}
    except Exception as exc:  # a broker outage is not a metrics outage
        log.warning("metrics: cannot read queue depth: %s", exc)
    return None


REGISTRY.register(StoredStateCollector())


def metrics_allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "ORCHESTRATOR_METRICS_TOKEN", "")
    if not token:
        return True
    header = request.headers.get("Authorization", "")
    return hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not getattr(settings, "ORCHESTRATOR_METRICS", False):
        return JsonResponse({"error": "metrics are off; set ORCHESTRATOR_METRICS=true"}, status=404)
    if not metrics_allowed(request):
        response = JsonResponse({"error": "metrics need Authorization: Bearer <ORCHESTRATOR_METRICS_TOKEN>"}, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
