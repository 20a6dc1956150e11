"""Guarantee 6: the SDK never raises into user code because of reporting
problems (bad URL, wrong key, TLS error, DNS failure, server 500): it warns
once, clearly, and goes on."""
from __future__ import annotations

import os

import pytest

from sdk import events
from sdk.shipping import ShippingSink
from tests.shipping.live_server import free_port, wait_until
from tests.shipping.helpers import FailingServer, log_event


def exercise(url: str, key: str | None, home, shipping_log) -> list[str]:
    """Emit through several failed attempts; nothing may raise. Returns the warnings logged."""
    sink = ShippingSink(url, key, home, flush_interval=0.02, max_backoff=0.05, request_timeout=2,
                        register_atexit=False)
    old = events.set_sink(sink)
    try:
        for i in range(200):
            events.emit(log_event(f"line {i}"))
        assert events.flush(0.3) is False
        for i in range(200):
            events.emit(log_event(f"more {i}"))
        wait_until(lambda: sink.backoff.failures >= 4, 20, message="several failed attempts")
        sink.close(0.2)
    finally:
        events.set_sink(old)
    # The events are not lost: they wait in the spool for a server that takes them.
    assert os.listdir(sink.spool.directory)
    return shipping_log.warnings


def assert_warned_once(warnings: list[str], *words: str) -> None:
    problem = [w for w in warnings if "will be sent by the next process" not in w]
    assert len(problem) == 1, warnings
    for word in words:
        assert word in problem[0], problem[0]


def test_nothing_listening_warns_once(home, shipping_log):
    url = f"http://127.0.0.1:{free_port()}/api"
    assert_warned_once(exercise(url, "key", home, shipping_log), "cannot connect", url)


def test_wrong_api_key_warns_once(server, home, shipping_log):
    assert_warned_once(exercise(server.url, "orc_wrong", home, shipping_log), "refused the API key", "401")


def test_wrong_path_warns_once(server, home, shipping_log):
    url = server.url.replace("/api", "/nope")
    assert_warned_once(exercise(url, server.key, home, shipping_log), "404", "ORCHESTRATOR_API_URL")


def test_tls_error_warns_once(server, home, shipping_log):
    url = server.url.replace("http://", "https://")  # Daphne speaks plain HTTP here
    assert_warned_once(exercise(url, server.key, home, shipping_log), "TLS")


def test_dns_failure_warns_once(home, shipping_log):
    url = "http://orchestrator.invalid/api"
    assert_warned_once(exercise(url, "key", home, shipping_log), "orchestrator.invalid")


def test_server_500_warns_once(home, shipping_log):
    failing = FailingServer(500)
    try:
        assert_warned_once(exercise(failing.url, "key", home, shipping_log), "answered 500", "internal error")
        assert failing.requests >= 4
    finally:
        failing.close()


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/api", "http://[::1/api"])
def test_malformed_url_warns_once(url, home, shipping_log):
    assert_warned_once(exercise(url, "key", home, shipping_log), "ORCHESTRATOR_API_URL")


def test_from_environment_never_raises(monkeypatch, home):
    monkeypatch.setenv("ORCHESTRATOR_API_URL", "::::")
    monkeypatch.setenv("ORCHESTRATOR_SHIP_BATCH_SIZE", "many")
    monkeypatch.setenv("ORCHESTRATOR_SHIP_EXIT_TIMEOUT", "-3")
    monkeypatch.setenv("ORCHESTRATOR_SHIP_INTERVAL", "0.5")
    sink = ShippingSink.from_environment()
    assert (sink.batch_size, sink.exit_timeout, sink.flush_interval) == (5000, 5.0, 0.5)
    sink.emit(log_event())
    assert sink.flush(0.2) is False
    sink.close(0.1)
