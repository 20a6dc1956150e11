"""Guarantee 5: events from many threads and many processes (a 4-process
`multiprocessing` run over fork) all arrive, each exactly once."""
from __future__ import annotations

import json
import multiprocessing
import threading

from sdk import events, flow, get_run_logger, task
from tests.shipping.helpers import RecordingSink
from tests.shipping.live_server import expected_rows

THREADS, TASKS = 3, 150


@task
def square(x: int) -> int:
    get_run_logger().info("squaring %d", x)
    return x * x


@flow
def squares(n: int) -> int:
    return sum(f.result() for f in [square.submit(i) for i in range(n)])  # on the flow's thread pool


def child(out_path: str) -> None:
    inherited = events.get_sink()
    if inherited.sink._queue:  # the parent's pending events stay the parent's
        raise SystemExit(3)
    recorder = RecordingSink(inherited.sink)
    events.set_sink(recorder)
    threads = [threading.Thread(target=squares, args=(TASKS,)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out_path, "w") as f:
        json.dump(recorder.events, f)
    # No flush here: the multiprocessing exit hook flushes the child's sink.


def test_events_from_four_processes_and_many_threads_arrive_exactly_once(server, home, tmp_path, make_sink):
    sink = make_sink()
    recorder = RecordingSink(sink)
    old = events.set_sink(recorder)
    try:
        squares(300)  # the parent's events: many are still queued when the children fork
        ctx = multiprocessing.get_context("fork")
        outputs = [tmp_path / f"child-{i}.json" for i in range(4)]
        processes = [ctx.Process(target=child, args=(str(out),)) for out in outputs]
        for p in processes:
            p.start()
        parent_threads = [threading.Thread(target=squares, args=(TASKS,)) for _ in range(THREADS)]
        for t in parent_threads:
            t.start()
        for t in parent_threads:
            t.join()
        for p in processes:
            p.join(60)
        assert [p.exitcode for p in processes] == [0, 0, 0, 0]
        assert events.flush(30)
    finally:
        events.set_sink(old)
        sink.close()
    emitted = list(recorder.events)
    for out in outputs:
        emitted += json.loads(out.read_text())
    ids = [e["id"] for e in emitted]
    assert len(ids) == len(set(ids))  # no process re-emitted another's events
    assert len(expected_rows(emitted)["orchestrator_taskrun"]) == 300 + 4 * THREADS * TASKS + THREADS * TASKS
    server.db.assert_holds(emitted)
