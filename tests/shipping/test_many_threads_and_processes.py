"""Guarantee 5: events from many threads and many processes (a 4-process
`multiprocessing` run over fork) all arrive, each exactly once."""
from __future__ import annotations

import multiprocessing
import threading
import uuid

from sdk import events
from sdk.shipping import ShippingSink
from tests.shipping.helpers import log_event

NAMESPACE = uuid.UUID("6f1c1d3e-2b1a-4c55-9a0e-8d3f2a1b0c9d")
THREADS, PER_THREAD = 3, 1500


def event_id(process: int, thread: int, i: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{process}-{thread}-{i}"))


def child(process: int) -> None:
    sink = events.get_sink()
    if sink._queue:  # the parent's pending events must stay the parent's
        raise SystemExit(3)

    def work(thread: int) -> None:
        for i in range(PER_THREAD):
            events.emit(log_event(f"p{process} t{thread} {i}", event_id=event_id(process, thread, i)))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # No flush here: the multiprocessing exit hook flushes the child's sink.


def test_events_from_four_processes_and_many_threads_arrive_exactly_once(server, home):
    sink = ShippingSink(server.url, server.key, home, register_atexit=False)
    old = events.set_sink(sink)
    try:
        parent = [log_event(f"parent {i}", event_id=event_id(99, 0, i)) for i in range(3000)]
        for event in parent:
            events.emit(event)  # still queued in the parent when the children fork
        ctx = multiprocessing.get_context("fork")
        processes = [ctx.Process(target=child, args=(p,)) for p in range(4)]
        for p in processes:
            p.start()
        for p in processes:
            p.join(60)
        assert [p.exitcode for p in processes] == [0, 0, 0, 0]
        assert events.flush(30)
    finally:
        events.set_sink(old)
        sink.close()
    expected = {event_id(p, t, i).replace("-", "") for p in range(4) for t in range(THREADS) for i in range(PER_THREAD)}
    expected |= {e["id"].replace("-", "") for e in parent}
    assert server.db.ids("orchestrator_log") == expected
