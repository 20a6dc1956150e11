"""Guarantee 4: `flush()` returns True once the server acknowledged everything
emitted before the call (False on timeout); at interpreter exit the SDK
flushes within a bounded, configurable time and spools the remainder."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

from sdk.shipping.spool import spool_dir
from tests.shipping.live_server import ROOT, wait_until
from tests.shipping.helpers import log_event, spooled_events, synthetic_flow


def test_flush_returns_true_once_the_server_acknowledged_everything(server, home, make_sink):
    sink = make_sink()
    events = list(synthetic_flow(1000))
    for event in events:
        sink.emit(event)
    assert sink.flush()
    server.db.assert_holds(events)  # acknowledged means stored: no waiting after flush
    assert not sink.spool.has_pending()  # acknowledged, not merely spooled
    assert sink.flush(5) is True  # nothing new since: acknowledged already
    sink.close()


def test_flush_waits_only_for_events_emitted_before_the_call(server, home, make_sink):
    sink = make_sink(batch_size=500)
    emitted: list[dict] = []
    stop = threading.Event()

    def producer() -> None:  # keeps emitting while the flush is going on (about 5,000 events/s)
        while not stop.is_set():
            for _ in range(50):
                event = log_event("busy")
                sink.emit(event)
                emitted.append(event)
            time.sleep(0.01)

    thread = threading.Thread(target=producer)
    thread.start()
    try:
        wait_until(lambda: len(emitted) > 2000, 30, message="the producer to get going")
        before = list(emitted)
        assert sink.flush(30)
        stored = server.db.ids("orchestrator_log")
        assert {e["id"].replace("-", "") for e in before} <= stored
    finally:
        stop.set()
        thread.join()
    assert sink.flush(30)
    server.db.assert_holds(emitted)
    sink.close()


def test_flush_returns_false_on_timeout(server, home, make_sink):
    sink = make_sink()
    server.kill()
    for i in range(100):
        sink.emit(log_event(f"line {i}"))
    start = time.monotonic()
    assert sink.flush(0.5) is False
    assert time.monotonic() - start < 10  # it gave up at its timeout, not at the server's whim
    sink.close(0.1)


EXITING = textwrap.dedent("""
    import sys, time
    from sdk import events
    from tests.shipping.helpers import log_event
    for i in range(int(sys.argv[1])):
        events.emit(log_event(f"line {i}"))
    print(time.monotonic(), flush=True)  # the user's code ends here; no explicit flush
""")


def run_exiting(server, home, n: int, exit_timeout: float):
    env = {**os.environ, "ORCHESTRATOR_API_URL": server.url, "ORCHESTRATOR_API_KEY": server.key,
           "ORCHESTRATOR_HOME": str(home), "ORCHESTRATOR_SHIP_EXIT_TIMEOUT": str(exit_timeout),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", EXITING, str(n)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    exited = time.monotonic()
    assert proc.returncode == 0, err
    return exited - float(out.split()[-1]), err


def test_exit_flush_is_bounded_and_spools_the_rest(server, home):
    server.kill()
    exit_took, err = run_exiting(server, home, 2000, exit_timeout=1.5)
    assert exit_took < 1.5 + 1.5, f"exit took {exit_took:.2f}s with ORCHESTRATOR_SHIP_EXIT_TIMEOUT=1.5"
    assert "will be sent by the next process" in err
    assert len(spooled_events(spool_dir(home, server.url))) == 2000


def test_exit_flush_delivers_everything_when_the_server_is_up(server, home):
    exit_took, err = run_exiting(server, home, 5000, exit_timeout=10)
    assert server.db.count("orchestrator_log") == 5000
    directory = spool_dir(home, server.url)
    assert not directory.exists() or os.listdir(directory) == []


def test_big_batches_are_gzipped_and_acknowledged(server, home, monkeypatch, make_sink):
    sink = make_sink()
    sink._transport.gzip_min_bytes = 1024  # loopback is never compressed by default: force it
    sent = []
    real_post = sink._transport._get_client().post
    monkeypatch.setattr(sink._transport._client, "post",
                        lambda url, content, headers: sent.append(headers) or real_post(url, content=content, headers=headers))
    events = list(synthetic_flow(500))
    for event in events:
        sink.emit(event)
    assert sink.flush(30)
    assert sent and all(h.get("Content-Encoding") == "gzip" for h in sent)
    server.db.assert_holds(events)
    sink.close()
