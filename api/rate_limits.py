"""Requests per API key per second on ingestion: a token bucket per key, in this server process.

DRF answers a refused request 429 with `Retry-After` (whole seconds, at least 1);
the SDK keeps the batch and waits at least that long. The limit is per server
process: behind a load balancer over N processes a key may send up to N times it.
`ORCHESTRATOR_INGEST_RATE_PER_KEY` (requests/s, 0 turns the limit off); bursts of twice
the rate pass.
"""
from __future__ import annotations

import math
import threading
import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

MAX_TRACKED_KEYS = 10_000  # beyond this the least recently seen keys are forgotten (a full bucket again)


class TokenBuckets:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[object, tuple[float, float]] = {}  # key → (tokens, updated at)

    def take(self, key: object, rate: float, burst: float) -> float:
        """Take one token for `key`; 0.0 when allowed, else the seconds until a token is due."""
        now = time.monotonic()
        with self.lock:
            tokens, updated = self.buckets.pop(key, (burst, now))
            tokens = min(burst, tokens + (now - updated) * rate)
            if tokens >= 1.0:
                self.buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self.buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / rate
            if len(self.buckets) > MAX_TRACKED_KEYS:
                del self.buckets[next(iter(self.buckets))]  # dicts keep insertion order: the stalest key
            return wait


BUCKETS = TokenBuckets()


class IngestRatePerKey(BaseThrottle):
    """Throttle for the ingestion endpoint, keyed by API key (or user, or client address)."""

    def allow_request(self, request, view) -> bool:
        rate = float(getattr(settings, "ORCHESTRATOR_INGEST_RATE_PER_KEY", 0) or 0)
        if rate <= 0:
            return True
        self.wait_seconds = BUCKETS.take(self.key_of(request), rate, max(1.0, 2 * rate))
        if self.wait_seconds > 0:
            from orchestrator.metrics import BATCHES_REFUSED

            BATCHES_REFUSED.labels(status="429").inc()
            return False
        return True

    def key_of(self, request) -> object:
        key = getattr(request, "auth", None)
        if getattr(key, "hashed_key", None):
            return ("key", key.hashed_key)  # unique for ever, unlike a primary key that may be reused
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "pk", None) is not None:
            return ("user", user.pk)
        return ("address", self.get_ident(request))

    def wait(self) -> float:
        return float(math.ceil(getattr(self, "wait_seconds", 1.0)))
