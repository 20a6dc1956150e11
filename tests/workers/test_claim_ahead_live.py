"""Claims on arrival, live (Redis): a worker claims the messages it prefetched, and when it stops
(SIGTERM, Celery's warm shutdown) it finishes the run it is executing and hands back the others,
which the server dispatches again for any worker; ORCHESTRATOR_WORKER_PREFETCH is checked."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest

from tests.shipping.live_server import ROOT, wait_until
from tests.workers.harness import Stack, delayed, json_line

SLEEPY = "tests.workers.served:sleepy"
ADD = "tests.workers.served:add"
RUNS = 4  # Celery's default prefetch: 4 messages per thread, so one thread reserves all of them
EXIT_BOUND = 30.0  # seconds a warm shutdown may take (the executing run takes about 1 s)


def backgrounds(stack: Stack) -> dict[str, tuple[int, str]]:
    """Each background run's (dispatch, claimed_by), read straight from the stack's database."""
    rows = stack.server.db._query("SELECT run_id, dispatch, claimed_by FROM orchestrator_backgroundrun")
    return {str(uuid.UUID(str(run_id))): (int(number), claimed_by or "") for run_id, number, claimed_by in rows}


def state_name(stack: Stack, run_id: str) -> str | None:
    state = stack.run(run_id)["state"]
    return state["name"] if state else None


def stop_all(stack: Stack, *procs: subprocess.Popen) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.mark.redis
@pytest.mark.slow
def test_sigterm_finishes_the_running_run_and_hands_back_the_prefetched_ones(redis_stack, own_queues):
    stack = redis_stack
    first = stack.start_worker(SLEEPY, concurrency=1)  # the default prefetch (4)
    second = None
    try:
        worker_name = f"{socket.gethostname()}:{first.pid}"
        out = delayed(stack, f"import json\nprint(json.dumps([sleepy.delay(1.0).task_run_id for _ in range({RUNS})]))")
        run_ids = json_line(out)
        assert len(set(run_ids)) == RUNS

        # The worker executes one and has claimed the others on their arrival (they wait behind it).
        running = wait_until(lambda: [r for r in run_ids if state_name(stack, r) == "Running"], 60, 0.05,
                             "a run to start")
        assert len(running) == 1, running
        executing = running[0]
        wait_until(lambda: all(backgrounds(stack)[r][1] == worker_name for r in run_ids), 30, 0.05,
                   f"all {RUNS} runs to be claimed by {worker_name}: {backgrounds(stack)}")
        waiting = [r for r in run_ids if r != executing]
        assert all(state_name(stack, r) == "Scheduled" for r in waiting)

        started = time.monotonic()
        os.killpg(first.pid, signal.SIGTERM)
        try:
            code = first.wait(EXIT_BOUND)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the worker did not exit within {EXIT_BOUND}s of SIGTERM:\n{stack.worker_logs()}")
        assert code == 0, f"exit {code}:\n{stack.worker_logs()}"
        assert time.monotonic() - started < EXIT_BOUND

        # The run it was executing ends Completed; the others were handed back, not crashed.
        assert stack.wait_for_state(executing, {"Completed"}, timeout=10)["state"]["name"] == "Completed"
        rows = backgrounds(stack)
        for run_id in waiting:
            assert state_name(stack, run_id) == "Scheduled", (run_id, stack.states(run_id), stack.worker_logs())
            number, claimed_by = rows[run_id]
            assert number >= 2 and claimed_by == "", (run_id, rows[run_id], stack.worker_logs())
            assert "Crashed" not in [s["name"] for s in stack.states(run_id)]
        assert rows[executing][0] == 1
        assert "handed back 3 run(s) claimed but not started" in stack.worker_logs()

        # Another worker runs them all, each once (the old messages, given back by the broker, are stale).
        second = stack.start_worker(SLEEPY, concurrency=1)
        for run_id in waiting:
            assert stack.wait_for_state(run_id, {"Completed", "Failed", "Crashed"}, timeout=60)["state"]["name"] == "Completed"
        for run_id in run_ids:
            names = [s["name"] for s in stack.states(run_id)]
            assert names.count("Running") == 1 and names[-1] == "Completed", (run_id, names)
            assert stack.run(run_id)["run_count"] == 1
        assert stack.stop_worker(second, timeout=EXIT_BOUND) == 0
    finally:
        stop_all(stack, first, *([second] if second is not None else []))


@pytest.mark.redis
@pytest.mark.slow
def test_a_prefetch_of_one_still_runs_a_round_trip(redis_stack, own_queues):
    stack = redis_stack
    worker = stack.start_worker(ADD, concurrency=1, ORCHESTRATOR_WORKER_PREFETCH="1")
    try:
        out = delayed(stack, "import json\nprint(json.dumps([f.result(timeout=60) for f in [add.delay(1, 2), add.delay(3, 4)]]))")
        assert json_line(out) == [3, 7], stack.worker_logs()
        assert stack.stop_worker(worker, timeout=EXIT_BOUND) == 0
    finally:
        stop_all(stack, worker)


@pytest.mark.parametrize("value", ["0", "-2", "x", "", "1.5"])
def test_an_invalid_prefetch_stops_serve_with_a_clear_message(value):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_")}
    environment.update({"ORCHESTRATOR_API_URL": "http://127.0.0.1:9/api", "ORCHESTRATOR_WORKER_PREFETCH": value,
                        "CELERY_BROKER_URL": "redis://127.0.0.1:9/0", "PYTHONPATH": str(ROOT)})
    out = subprocess.run([sys.executable, "-m", "sdk", "serve", ADD], cwd=ROOT, env=environment,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0, out.stderr
    assert out.returncode == 2, out.stderr
    assert f"ORCHESTRATOR_WORKER_PREFETCH must be a positive integer, got {value!r}" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_prefetch_setting_reaches_the_celery_app(monkeypatch):
    from sdk.workers import app as worker_app

    class NoRunner:
        claims = None

    monkeypatch.setenv("ORCHESTRATOR_WORKER_PREFETCH", "3")
    assert worker_app.build_app(NoRunner()).conf.worker_prefetch_multiplier == 3
    monkeypatch.delenv("ORCHESTRATOR_WORKER_PREFETCH")
    assert worker_app.build_app(NoRunner()).conf.worker_prefetch_multiplier == 4
    monkeypatch.setenv("ORCHESTRATOR_WORKER_PREFETCH", "0")
    with pytest.raises(ValueError, match="positive integer"):
        worker_app.build_app(NoRunner())


def test_claim_on_arrival_ignores_messages_without_the_runs_fields(monkeypatch):
    """task_received: a run message carrying its fields is claimed ahead; an older one, or another task, is not."""
    from celery.signals import task_received

    from sdk.workers import app as worker_app

    class Recorder:
        def __init__(self) -> None:
            self.ahead_calls: list[tuple] = []

        def ahead(self, *args) -> None:
            self.ahead_calls.append(args)

    class FakeRunner:
        claims = Recorder()

    runner = FakeRunner()
    app = worker_app.build_app(runner)

    class Sender:
        pass

    sender = Sender()
    sender.app = app

    class Request:
        def __init__(self, name: str, kwargs: dict) -> None:
            self.name, self.kwargs = name, kwargs

    run_id = str(uuid.uuid4())
    full = {"kind": "task", "run_id": run_id, "key": "k", "dispatch": 2, "run": {"name": "n"}}
    task_received.send(sender=sender, request=Request(worker_app.EXECUTE_RUN, full))
    task_received.send(sender=sender, request=Request(worker_app.EXECUTE_RUN, {**full, "run": None}))
    task_received.send(sender=sender, request=Request("something.else", full))
    task_received.send(sender=sender, request=Request(worker_app.EXECUTE_RUN, {**full, "dispatch": "x"}))
    task_received.send(sender=sender, request=None)
    assert runner.claims.ahead_calls == [("task", run_id, 2)]


class FakeServer:
    """Answers the worker's POST /api/claims/ and /api/claims/release/ (sdk.workers.claims.api_client)."""

    def __init__(self, refuse: set[str] = frozenset()) -> None:
        self.refuse = refuse
        self.bodies: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def call(self, method: str, path: str, json: dict) -> dict:
        with self.lock:
            self.bodies.append((path, json))
        if path == "claims/":
            return {"claims": [{"id": c["id"], "kind": c["kind"], "detail": "",
                                "outcome": "taken" if c["id"] in self.refuse else "claimed"} for c in json["claims"]]}
        assert path == "claims/release/", path
        return {"released": [{"id": r["id"], "kind": r["kind"], "outcome": "released"} for r in json["release"]]}


def test_release_unstarted_hands_back_only_what_was_claimed_ahead_and_not_started(monkeypatch):
    from sdk.workers import claims as claims_module

    ids = [str(uuid.uuid4()) for _ in range(4)]
    server = FakeServer(refuse={ids[3]})
    monkeypatch.setattr(claims_module, "api_client", lambda: server)
    claims = claims_module.Claims("w:1")
    for run_id in ids:
        claims.ahead("task", run_id, 1)
    claims.ahead("task", ids[0], 1)  # the same message twice: one claim
    assert claims.claim("task", ids[0], 1) is True  # started: not handed back
    assert claims.claim("task", ids[3], 1) is False  # taken by another worker: not ours to hand back
    claims.release_unstarted()
    releases = [body for path, body in server.bodies if path == "claims/release/"]
    assert len(releases) == 1
    assert releases[0]["worker"] == "w:1"
    assert sorted(r["id"] for r in releases[0]["release"]) == sorted(ids[1:3])
    assert all(r["kind"] == "task" and r["dispatch"] == 1 for r in releases[0]["release"])
    asked = [c["id"] for path, body in server.bodies if path == "claims/" for c in body["claims"]]
    assert sorted(asked) == sorted(ids)  # each claimed once, ahead
    claims.release_unstarted()  # nothing left: no request
    assert len([p for p, _ in server.bodies if p == "claims/release/"]) == 1


class ThroughTheApi:
    """sdk.workers.claims.api_client() answered by this test's server (DRF's test client), from any thread."""

    def __init__(self, client) -> None:
        self.client = client

    def call(self, method: str, path: str, json: dict) -> dict:
        from django.db import connections

        try:
            response = self.client.post(f"/api/{path}", json, format="json")
            assert response.status_code == 200, response.content
            return response.json()
        finally:
            if threading.current_thread() is not threading.main_thread():
                connections.close_all()  # the sender thread lives on: hold no connection


# The claims are sent from the sender thread: it must see the test's rows (committed).
@pytest.mark.django_db(transaction=True)
def test_a_claim_obtained_ahead_is_not_used_once_the_run_was_dispatched_again(staff, own_queues, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from orchestrator.housekeeping import crash_runs_of_silent_workers
    from orchestrator.models import BackgroundRun
    from sdk.workers import claims as claims_module
    from tests.workers.harness import delayed_run

    monkeypatch.setattr(claims_module, "api_client", lambda: ThroughTheApi(staff))
    # Its turn comes long after the claim on arrival (here: any time after, as if CONFIRM_AFTER had passed).
    monkeypatch.setattr(claims_module, "CONFIRM_AFTER", 0.0)
    run_id = delayed_run(staff)
    first = claims_module.Claims("w:1")
    first.ahead("task", run_id, 1)  # its message arrived behind a long run
    wait_until(lambda: BackgroundRun.objects.get(run_id=run_id).claimed_by == "w:1", 10, 0.01, "the claim ahead")
    # w:1 is not heard from for a while (never seen here), so housekeeping hands its unstarted run to others.
    BackgroundRun.objects.filter(run_id=run_id).update(claimed_at=timezone.now() - timedelta(minutes=5))
    crash_runs_of_silent_workers(stale_after=timedelta(seconds=60))
    assert BackgroundRun.objects.get(run_id=run_id).dispatch == 2
    assert claims_module.Claims("w:2").claim("task", run_id, 2) is True  # another worker runs the new dispatch
    # w:1's turn comes for its old message: the server would refuse it ("stale"), so must the worker.
    assert first.claim("task", run_id, 1) is False


# The claims are sent from the sender thread: it must see the test's rows (committed).
@pytest.mark.django_db(transaction=True)
def test_a_claim_held_long_is_confirmed_and_used_when_still_ours(staff, own_queues, monkeypatch):
    from orchestrator.models import BackgroundRun
    from sdk.workers import claims as claims_module
    from tests.workers.harness import delayed_run

    monkeypatch.setattr(claims_module, "api_client", lambda: ThroughTheApi(staff))
    monkeypatch.setattr(claims_module, "CONFIRM_AFTER", 0.0)
    run_id = delayed_run(staff)
    worker = claims_module.Claims("w:1")
    worker.ahead("task", run_id, 1)
    wait_until(lambda: BackgroundRun.objects.get(run_id=run_id).claimed_by == "w:1", 10, 0.01, "the claim ahead")
    assert worker.claim("task", run_id, 1) is True  # confirmed: still dispatch 1, still w:1's
    assert claims_module.Claims("w:2").claim("task", run_id, 1) is False  # and nobody else's


# The claims are sent from the sender thread: it must see the test's rows (committed).
@pytest.mark.django_db(transaction=True)
def test_a_fresh_claim_on_arrival_is_used_without_asking_again(staff, own_queues, monkeypatch):
    from orchestrator.models import BackgroundRun
    from sdk.workers import claims as claims_module
    from tests.workers.harness import delayed_run

    sent: list[dict] = []

    class Counting(ThroughTheApi):
        def call(self, method: str, path: str, json: dict) -> dict:
            sent.append(json)
            return super().call(method, path, json)

    monkeypatch.setattr(claims_module, "api_client", lambda: Counting(staff))
    run_id = delayed_run(staff)
    worker = claims_module.Claims("w:1")
    worker.ahead("task", run_id, 1)
    wait_until(lambda: BackgroundRun.objects.get(run_id=run_id).claimed_by == "w:1", 10, 0.01, "the claim ahead")
    assert worker.claim("task", run_id, 1) is True
    assert len(sent) == 1 and "confirm" not in sent[0]["claims"][0]
