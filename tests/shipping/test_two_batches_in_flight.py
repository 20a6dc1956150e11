"""A backlog goes out two batches at a time (the server reads one while it stores the
other); a batch of a pair that fails is sent again or spooled like any other."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sdk.shipping import ShippingSink
from tests.shipping.helpers import log_event


class SlowServer:
    """Answers each POST after `delay` seconds; records the event ids of accepted batches and the
    most requests it saw at once. `fail_requests` lists request numbers (1-based) answered 503."""

    def __init__(self, delay: float = 0.05, fail_requests: tuple[int, ...] = ()) -> None:
        self.delay, self.fail_requests = delay, set(fail_requests)
        self.received: list[str] = []
        self.requests = self.active = self.peak = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                events = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))["events"]
                with lock:
                    outer.requests += 1
                    number = outer.requests
                    outer.active += 1
                    outer.peak = max(outer.peak, outer.active)
                time.sleep(outer.delay)
                with lock:
                    outer.active -= 1
                    failed = number in outer.fail_requests
                    if not failed:
                        outer.received += [e["id"] for e in events]
                status, body = (503, {"error": "busy"}) if failed else (200, {"accepted": len(events), "duplicates": 0, "rejected": []})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/api"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


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
