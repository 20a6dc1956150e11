"""A backlog goes out two batches at a time (the server reads one while it stores the
other); a batch of a pair that fails is sent again or spooled like any other."""
from __future__ import annotations

import json
import threading
import time

import pytest

from sdk.shipping import ShippingSink
from tests.shipping.helpers import StubServer, log_event


class SlowServer(StubServer):
    """Answers each POST after `delay` seconds; records the event ids of accepted batches and the
    most requests it saw at once. `fail_requests` lists request numbers (1-based) answered 503."""

    def __init__(self, delay: float = 0.05, fail_requests: tuple[int, ...] = ()) -> None:
        self.delay, self.fail_requests = delay, set(fail_requests)
        self.received: list[str] = []
        self.active = self.peak = 0
        self._lock = threading.Lock()
        super().__init__()

    def answer(self, body: bytes) -> tuple[int, dict]:
        events = json.loads(body)["events"]
        with self._lock:
            self.requests += 1
            number = self.requests
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(self.delay)
        with self._lock:
            self.active -= 1
            failed = number in self.fail_requests
            if not failed:
                self.received += [e["id"] for e in events]
        if failed:
            return 503, {"error": "busy"}
        return 200, {"accepted": len(events), "duplicates": 0, "rejected": []}


@pytest.fixture
def slow_server(request):
    server = SlowServer(**getattr(request, "param", {}))
    yield server
    server.close()


def ship(server: SlowServer, home, n: int) -> list[str]:
    sink = ShippingSink(server.url, "key", home, batch_size=100, max_backoff=0.1, register_atexit=False)
    events = [log_event(f"line {i}") for i in range(n)]
    try:
        for event in events:
            sink.emit(event)
        assert sink.flush(10)
    finally:
        sink.close(0)
    return [e["id"] for e in events]


def test_a_backlog_is_sent_two_batches_at_a_time(slow_server, home):
    ids = ship(slow_server, home, 1000)
    assert slow_server.peak == 2
    assert sorted(slow_server.received) == sorted(ids)  # each once: nothing lost, nothing repeated


@pytest.mark.parametrize("slow_server", [{"fail_requests": (1,)}, {"fail_requests": (2,)}, {"fail_requests": (1, 2)}],
                         indirect=True, ids=["first-fails", "second-fails", "both-fail"])
def test_a_failed_batch_of_a_pair_is_delivered_later(slow_server, home):
    ids = ship(slow_server, home, 1000)
    assert set(slow_server.received) == set(ids)
