"""emit's fast path must not skip the work its slow path does: thread start, wake-up, spill."""
import time

from sdk.shipping import ShippingSink


def make(tmp_path, **kw):
    # Nothing listens on port 9: every send fails, so events stay queued or spooled.
    return ShippingSink("http://127.0.0.1:9/api", None, home=tmp_path, register_atexit=False, **kw)


def event(i):
    return {"id": f"00000000-0000-4000-8000-{i:012d}", "type": "log", "occurred": "2026-01-01T00:00:00+00:00",
            "seq": i, "flow_run_id": None, "task_run_id": None, "level": 20, "logger": "t", "message": "m"}


def test_the_first_emit_starts_the_shipping_thread(tmp_path):
    sink = make(tmp_path)
    try:
        assert sink._thread is None
        sink.emit(event(0))
        assert sink._thread is not None and sink._thread.is_alive()
    finally:
        sink.close(0.1)


def test_with_a_zero_bound_every_event_goes_to_the_spool_not_memory(tmp_path):
    sink = make(tmp_path, queue_size=0)
    try:
        for i in range(50):
            sink.emit(event(i))
        assert len([e for e in sink._queue if isinstance(e, dict)]) == 0
        assert sink.stats["spooled"] == 50
    finally:
        sink.close(0.1)


def test_past_the_bound_events_spill_to_disk_and_memory_stays_bounded(tmp_path):
    sink = make(tmp_path, queue_size=100)
    try:
        for i in range(1_000):
            sink.emit(event(i))
        in_memory = len([e for e in sink._queue if isinstance(e, dict)])
        assert in_memory <= 100
        deadline = time.monotonic() + 5
        while sink.stats["spooled"] + in_memory < 1_000 and time.monotonic() < deadline:
            time.sleep(0.01)
            in_memory = len([e for e in sink._queue if isinstance(e, dict)]) + len(sink.delivery.inflight or [])
        assert sink.stats["spooled"] + in_memory >= 1_000
    finally:
        sink.close(0.1)
