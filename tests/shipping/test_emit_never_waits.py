"""Guarantee 1: user code never waits on the network. Emitting costs a queue
append; when the queue is full, events go to the on-disk spool: never
dropped, never blocking."""
from __future__ import annotations

import os
import signal
import time

from sdk.shipping import ShippingSink
from tests.shipping.live_server import wait_until
from tests.shipping.helpers import log_event, spooled_events, synthetic_flow


def test_emit_is_a_queue_append_that_rarely_takes_the_slow_path(server, home, make_sink, monkeypatch):
    # What it costs in time is measured in bench/sdk_overhead.py; here, what it does.
    sink = make_sink()
    slow_paths = []
    real = sink._on_queue_growth
    monkeypatch.setattr(sink, "_on_queue_growth", lambda: slow_paths.append(len(sink._queue)) or real())
    events = list(synthetic_flow(4000))  # 16,002 events
    for event in events:
        sink.emit(event)
    # Starting the thread, then about once per batch the thread takes (5,000 events): never per event.
    assert 1 <= len(slow_paths) <= 1 + len(events) // 1000, slow_paths
    assert sink.flush(60)
    server.db.assert_holds(events)
    sink.close()


def test_full_queue_spills_to_disk_without_blocking(server, home, make_sink):
    # A stopped server accepts connections but never answers: the shipping thread hangs in a request.
    sink = make_sink(queue_size=100, batch_size=50, request_timeout=60)
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        first = [log_event(f"first {i}") for i in range(50)]
        for event in first:
            sink.emit(event)
        wait_until(lambda: sink.delivery.inflight, 10, message="the shipping thread to be stuck in a request")
        events = [log_event(f"spilled {i}") for i in range(5000)]
        start = time.perf_counter()
        for event in events:
            sink.emit(event)
        elapsed = time.perf_counter() - start
        # Blocking on the hung request would take its 60 s timeout; the margin is for a loaded machine.
        assert elapsed < 20, f"5,000 emits with a full queue took {elapsed:.2f}s"
        # Nothing dropped: the queue holds what fits, the spool the rest, already on disk.
        in_memory = {e["id"] for e in sink._queue}
        on_disk = {e["id"] for e in spooled_events(sink.spool.directory)}
        assert len(in_memory) == 100
        assert in_memory | on_disk == {e["id"] for e in events}
        assert not in_memory & on_disk
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    assert sink.flush(60)
    server.db.assert_holds(first + events)
    assert os.listdir(sink.spool.directory) == []
    sink.close()


def test_events_stay_in_memory_when_the_spool_cannot_be_written(server, tmp_path, shipping_log):
    not_a_directory = tmp_path / "home"
    not_a_directory.write_text("a file where ORCHESTRATOR_HOME should be")
    sink = ShippingSink(server.url, server.key, not_a_directory, queue_size=10, max_backoff=0.2,
                        register_atexit=False)
    try:
        server.kill()
        events = [log_event(f"kept {i}") for i in range(100)]
        for event in events:
            sink.emit(event)  # the queue is full after 10: the spool fails, memory takes the rest
        assert sink.flush(0.5) is False
        server.start()
        assert sink.flush(30)
        server.db.assert_holds(events)
        assert any("cannot write the spool" in w for w in shipping_log.warnings)
    finally:
        sink.close(0)
