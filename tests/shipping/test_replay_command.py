"""`python -m sdk replay` and `sdk.shipping.replay_spool()`: send what earlier processes
spooled, in a process that emits nothing itself, and say how many were delivered and remain."""
from __future__ import annotations

import os
import subprocess
import sys

from sdk.shipping import ShippingSink, replay_spool
from sdk.shipping.spool import Spool, spool_dir
from tests.shipping.helpers import spooled_events, synthetic_flow
from tests.shipping.live_server import ROOT, free_port


def spool_events(home, url: str, n_tasks: int) -> list[dict]:
    """What a process that could not reach `url` leaves behind: its events, spooled."""
    sink = ShippingSink(url, None, home, register_atexit=False)
    sink.backoff.failed(None)  # known unreachable: the close below spools without trying
    events = list(synthetic_flow(n_tasks))
    for event in events:
        sink.emit(event)
    sink.close(5)
    return events


def spooled(home, url: str) -> list[dict]:
    return spooled_events(spool_dir(home, url))


def replay_command(url: str, key: str | None, home) -> subprocess.CompletedProcess:
    env = {**os.environ, "ORCHESTRATOR_API_URL": url, "ORCHESTRATOR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("ORCHESTRATOR_API_KEY", None)
    if key:
        env["ORCHESTRATOR_API_KEY"] = key
    return subprocess.run([sys.executable, "-m", "sdk", "replay"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_replay_sends_the_spool_and_prints_delivered_and_remaining(server, home):
    events = spool_events(home, server.url, 50)
    assert len(spooled(home, server.url)) == len(events)

    out = replay_command(server.url, server.key, home)

    assert out.returncode == 0, out.stderr
    assert f"delivered {len(events)} events; 0 remain" in out.stdout
    server.db.assert_holds(events)
    assert spooled(home, server.url) == []


def test_replay_with_the_server_down_keeps_everything_and_says_so(home):
    url = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    events = spool_events(home, url, 20)

    out = replay_command(url, None, home)

    assert out.returncode == 1, out.stderr
    assert f"delivered 0 events; {len(events)} remain" in out.stdout
    assert [e["id"] for e in spooled(home, url)] == [e["id"] for e in events]


def test_replay_without_a_server_url_is_a_usage_error(home):
    env = {k: v for k, v in os.environ.items() if k != "ORCHESTRATOR_API_URL"}
    out = subprocess.run([sys.executable, "-m", "sdk", "replay"], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "ORCHESTRATOR_API_URL is not set" in out.stderr


def test_replay_spool_is_callable_from_code_for_a_worker_starting_up(server, home, monkeypatch):
    events = spool_events(home, server.url, 10)
    monkeypatch.setenv("ORCHESTRATOR_API_URL", server.url)
    monkeypatch.setenv("ORCHESTRATOR_API_KEY", server.key)

    report = replay_spool()

    assert (report.delivered, report.remaining) == (len(events), 0)
    server.db.assert_holds(events)
    assert Spool(spool_dir(home, server.url)).pending_records() == 0


def test_replay_spool_does_nothing_when_reporting_is_off(home, monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_API_URL", raising=False)
    report = replay_spool()
    assert (report.delivered, report.remaining, report.directory) == (0, 0, None)
