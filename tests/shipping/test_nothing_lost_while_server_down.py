"""Guarantee 2: nothing is lost while the server is down or restarting. Events
wait in memory, then in the crash-safe spool, and are sent when the server
returns, by the same process or by the next one reporting to the same URL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

from sdk import events, flow, get_run_logger, task
from sdk.shipping.spool import Spool, encode_record, read_records, spool_dir
from tests.shipping.live_server import ROOT, wait_until
from tests.shipping.helpers import RecordingSink, log_event


@task
def slow_add(x: int) -> int:
    get_run_logger().info("adding one to %d", x)
    time.sleep(0.001)
    return x + 1


@flow
def two_thousand_tasks() -> int:
    get_run_logger().info("starting")
    return sum(slow_add(i) for i in range(2000))


def test_server_killed_mid_flow_every_run_state_and_log_arrives_exactly_once(server, home, make_sink):
    sink = make_sink(max_backoff=0.5)
    recorder = RecordingSink(sink)
    old = events.set_sink(recorder)
    try:
        result = []
        runner = threading.Thread(target=lambda: result.append(two_thousand_tasks()))
        runner.start()
        wait_until(lambda: sink.stats["sent"] > 0, 30, message="the first batch to arrive")
        server.kill()
        sent_before_kill = sink.stats["sent"]
        runner.join(60)
        assert result == [sum(range(1, 2001))]  # the user's flow never noticed
        assert sent_before_kill < len(recorder.events)
        wait_until(lambda: sink.stats["spooled"] > 0, 10, message="events to reach the spool")
        server.start()
        assert sink.flush(60)
    finally:
        events.set_sink(old)
    emitted = recorder.events
    assert sum(e["type"] == "task_run.created" for e in emitted) == 2000
    assert sum(e["type"] == "log" for e in emitted) >= 2001
    server.db.assert_holds(emitted)
    assert os.listdir(sink.spool.directory) == []
    sink.close()


NEXT_PROCESS = textwrap.dedent("""
    import sys
    from sdk import events
    from tests.shipping.helpers import log_event
    n = int(sys.argv[1])
    for i in range(n):
        events.emit(log_event(f"event {i}", event_id=f"00000000-0000-4000-8000-{i + int(sys.argv[2]):012d}"))
    print("flushed", events.flush(float(sys.argv[3])), flush=True)
""")


def run_sdk_process(server, home, n: int, offset: int, flush_timeout: float, exit_timeout: float = 1.0):
    env = {**os.environ, "ORCHESTRATOR_API_URL": server.url, "ORCHESTRATOR_API_KEY": server.key,
           "ORCHESTRATOR_HOME": str(home), "ORCHESTRATOR_SHIP_EXIT_TIMEOUT": str(exit_timeout),
           "ORCHESTRATOR_SHIP_MAX_BACKOFF": "0.5", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", NEXT_PROCESS, str(n), str(offset), str(flush_timeout)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def ids(n: int, offset: int = 0) -> list[dict]:
    return [log_event(event_id=f"00000000-0000-4000-8000-{i + offset:012d}") for i in range(n)]


def test_spool_is_replayed_by_the_next_process(server, home):
    server.kill()
    first = run_sdk_process(server, home, 3000, 0, flush_timeout=0.5)
    assert first.returncode == 0, first.stderr
    assert "flushed False" in first.stdout
    assert "will be sent by the next process" in first.stderr
    directory = spool_dir(home, server.url)
    assert len(os.listdir(directory)) == 1
    server.start()
    second = run_sdk_process(server, home, 10, 100_000, flush_timeout=30)
    assert second.returncode == 0, second.stderr
    assert "flushed True" in second.stdout
    server.db.assert_holds(ids(3000) + ids(10, 100_000))
    assert os.listdir(directory) == []


def test_torn_last_record_is_skipped_on_replay(server, home, shipping_log, make_sink):
    directory = spool_dir(home, server.url)
    events = [log_event(f"spooled {i}") for i in range(100)]
    writer = Spool(directory)
    writer.append(events, fsync=True)
    path = writer._path
    os.close(writer._fd)  # as if the process died: its lock is gone
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size - 7)  # the last record is torn
    sink = make_sink()
    sink.emit(log_event("after"))
    assert sink.flush(30)
    stored = server.db.ids("orchestrator_log")
    assert {e["id"].replace("-", "") for e in events[:-1]} <= stored
    assert events[-1]["id"].replace("-", "") not in stored
    assert len(stored) == 100  # 99 replayed + "after"
    assert "torn or corrupt record" in shipping_log.text
    assert os.listdir(directory) == []
    sink.close()


KILLED_WRITER = textwrap.dedent("""
    import sys
    from sdk.shipping.spool import Spool
    spool = Spool(sys.argv[1])
    i = 0
    while True:
        spool.append([{"id": f"00000000-0000-4000-8000-{i:012d}", "type": "log", "occurred":
                       "2026-11-26T10:00:00+00:00", "seq": i, "flow_run_id": None, "task_run_id": None,
                       "level": 20, "logger": "w", "message": "x" * (i % 3000)}])
        i += 1
""")


def test_sigkilled_writer_loses_at_most_the_record_being_written(server, home, make_sink):
    directory = spool_dir(home, server.url)
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(directory)], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        wait_until(lambda: directory.exists() and any(
            (directory / n).stat().st_size > 2_000_000 for n in os.listdir(directory)), 30,
            message="the writer to spool 2 MB")
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    [name] = os.listdir(directory)
    with open(directory / name, "rb") as f:
        records, end = [], 0
        for event, end in read_records(f):
            records.append(event)
        f.seek(end)
        tail = f.read()
    # Every record before the last one written is intact, in order, with no gap...
    assert [e["seq"] for e in records] == list(range(len(records)))
    # ...and what follows is at most the beginning of the next record.
    i = len(records)
    assert encode_record({"id": f"00000000-0000-4000-8000-{i:012d}", "type": "log", "occurred":
                          "2026-11-26T10:00:00+00:00", "seq": i, "flow_run_id": None, "task_run_id": None,
                          "level": 20, "logger": "w", "message": "x" * (i % 3000)}).startswith(tail)
    # Replayed by the next process that reports to the URL, exactly once each.
    sink = make_sink()
    sink.emit(log_event("next process"))
    assert sink.flush(60)
    stored = server.db.ids("orchestrator_log")
    assert {e["id"].replace("-", "") for e in records} <= stored
    assert len(stored) == len(records) + 1
    assert os.listdir(directory) == []
    sink.close()
