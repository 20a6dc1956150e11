"""A stopping worker hands back runs it claimed on their arrival but never started
(POST /api/claims/release/ → orchestrator.background.release_many), and housekeeping does the
same for a silent worker's claimed, still-Scheduled runs, while its Running ones end Crashed."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from orchestrator import dispatch
from orchestrator.background import release_many
from orchestrator.dispatch import BrokerUnavailable
from orchestrator.housekeeping import crash_runs_of_silent_workers
from orchestrator.models import BackgroundRun, TaskRun
from orchestrator.run_states import record, state_event
from tests.api.conftest import client_with_key
from tests.api.factories import make_task_run, make_worker
from tests.workers.harness import delayed_run

pytestmark = pytest.mark.usefixtures("own_queues")

RELEASE = "/api/claims/release/"


def claims(client, *wanted: tuple[str, int], worker: str = "w:1", kind: str = "task") -> list[str]:
    body = {"worker": worker, "claims": [{"kind": kind, "id": run_id, "dispatch": n} for run_id, n in wanted]}
    response = client.post("/api/claims/", body, format="json")
    assert response.status_code == 200, response.content
    return [c["outcome"] for c in response.json()["claims"]]


def release(client, *held: tuple[str, int], worker: str = "w:1", kind: str = "task"):
    body = {"worker": worker, "release": [{"kind": kind, "id": run_id, "dispatch": n} for run_id, n in held]}
    return client.post(RELEASE, body, format="json")


def released(client, *held: tuple[str, int], worker: str = "w:1", kind: str = "task") -> list[str]:
    response = release(client, *held, worker=worker, kind=kind)
    assert response.status_code == 200, response.content
    return [r["outcome"] for r in response.json()["released"]]


def background(run_id) -> BackgroundRun:
    return BackgroundRun.objects.get(run_id=run_id)


def claimed_by_w1(staff) -> str:
    run_id = delayed_run(staff)
    assert claims(staff, (run_id, 1), worker="w:1") == ["claimed"]
    return run_id


# --- released ---

def test_a_claimed_scheduled_run_is_dispatched_again(staff):
    run_id = claimed_by_w1(staff)
    before = background(run_id)
    assert (before.claimed_by, before.dispatch) == ("w:1", 1) and before.claimed_at is not None

    response = release(staff, (run_id, 1), worker="w:1")
    assert response.status_code == 200, response.content
    assert response.json() == {"released": [{"id": run_id, "kind": "task", "outcome": "released"}]}

    after = background(run_id)
    assert after.dispatch == 2
    assert after.claimed_by == "" and after.claimed_at is None
    assert after.message_id and after.message_id != before.message_id  # a new message carries the new dispatch
    assert after.enqueued_at >= before.enqueued_at
    assert after.parameters == {"a": 1}
    assert TaskRun.objects.get(pk=run_id).state_name == "Scheduled"


def test_after_a_release_the_old_dispatch_is_stale_and_the_new_one_claimable(staff):
    run_id = claimed_by_w1(staff)
    assert released(staff, (run_id, 1)) == ["released"]
    assert claims(staff, (run_id, 1), worker="w:1") == ["stale"]  # the old message, should the broker give it back
    assert claims(staff, (run_id, 1), worker="w:2") == ["stale"]
    assert claims(staff, (run_id, 2), worker="w:2") == ["claimed"]
    assert claims(staff, (run_id, 2), worker="w:1") == ["taken"]
    assert background(run_id).claimed_by == "w:2"


def test_the_new_dispatch_is_sent_to_the_broker(staff, monkeypatch):
    run_id = claimed_by_w1(staff)
    sent: list[tuple[int, str, dict]] = []
    monkeypatch.setattr(dispatch, "send_runs", lambda runs: sent.extend((b.dispatch, b.message_id, f) for b, f in runs))
    assert released(staff, (run_id, 1)) == ["released"]
    assert len(sent) == 1
    number, message_id, fields = sent[0]
    assert number == 2 and message_id == background(run_id).message_id
    assert fields["parameters"] == {"a": 1} and fields["flow_run_id"] is None


def test_a_release_twice_is_released_once(staff):
    run_id = claimed_by_w1(staff)
    assert released(staff, (run_id, 1)) == ["released"]
    assert released(staff, (run_id, 1)) == ["not held"]
    assert background(run_id).dispatch == 2


def test_several_runs_are_answered_in_order_each_on_its_own(staff):
    a, b, running = claimed_by_w1(staff), claimed_by_w1(staff), claimed_by_w1(staff)
    record([state_event("task", uuid.UUID(running), "RUNNING", "Running", run_count=1)])
    other = delayed_run(staff)
    assert claims(staff, (other, 1), worker="w:2") == ["claimed"]
    response = release(staff, (a, 1), (running, 1), (other, 1), (b, 1), (str(uuid.uuid4()), 1))
    assert response.status_code == 200, response.content
    body = response.json()["released"]
    assert [r["outcome"] for r in body] == ["released", "started", "not held", "released", "not held"]
    assert [r["id"] for r in body][:4] == [a, running, other, b]
    assert [background(r).dispatch for r in (a, running, other, b)] == [2, 1, 1, 2]


def test_release_many_directly(db):
    """The domain function the view calls, with run ids as UUIDs."""
    assert release_many("w:1", [("task", uuid.uuid4(), 1)]) == ["not held"]


def test_a_claimed_scheduled_flow_run_is_dispatched_again(db, monkeypatch):
    from tests.api.factories import make_flow_run

    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(dispatch, "send_runs", lambda runs: sent.extend((b.kind, b.dispatch) for b, _ in runs))
    run = make_flow_run(state=("SCHEDULED", "Scheduled"))
    BackgroundRun.objects.create(run_id=run.id, kind="flow", key=run.flow.name, parameters={}, dispatch=1,
                                 message_id=str(uuid.uuid4()), claimed_by="w:1", claimed_at=timezone_now())
    assert release_many("w:1", [("task", run.id, 1)]) == ["not held"]
    assert release_many("w:1", [("flow", run.id, 1)]) == ["released"]
    assert sent == [("flow", 2)]
    assert (background(run.id).claimed_by, background(run.id).dispatch) == ("", 2)


# --- not held ---

def test_another_workers_claim_is_not_held(staff):
    run_id = claimed_by_w1(staff)
    assert released(staff, (run_id, 1), worker="w:2") == ["not held"]
    after = background(run_id)
    assert (after.claimed_by, after.dispatch) == ("w:1", 1)


@pytest.mark.parametrize("number", [2, 3])
def test_a_wrong_dispatch_is_not_held(staff, number):
    run_id = claimed_by_w1(staff)
    assert released(staff, (run_id, number)) == ["not held"]
    after = background(run_id)
    assert (after.claimed_by, after.dispatch) == ("w:1", 1)


def test_an_earlier_dispatch_is_not_held(staff):
    run_id = delayed_run(staff)
    BackgroundRun.objects.filter(run_id=run_id).update(dispatch=3)
    assert claims(staff, (run_id, 3)) == ["claimed"]
    assert released(staff, (run_id, 2)) == ["not held"]
    assert background(run_id).dispatch == 3


def test_an_unclaimed_run_is_not_held(staff):
    run_id = delayed_run(staff)
    assert released(staff, (run_id, 1)) == ["not held"]
    assert background(run_id).dispatch == 1


def test_an_unknown_run_is_not_held(staff):
    assert released(staff, (str(uuid.uuid4()), 1)) == ["not held"]


def test_a_task_run_released_as_a_flow_run_is_not_held(staff):
    run_id = claimed_by_w1(staff)
    assert released(staff, (run_id, 1), kind="flow") == ["not held"]
    assert (background(run_id).claimed_by, background(run_id).dispatch) == ("w:1", 1)


# --- started ---

def test_a_run_reported_running_through_the_events_api_is_started(staff):
    run_id = claimed_by_w1(staff)
    event = state_event("task", uuid.UUID(run_id), "RUNNING", "Running", run_count=1)
    response = client_with_key("ingest").post("/api/events/", {"events": [event]}, format="json")
    assert response.status_code in (200, 202), response.content
    assert TaskRun.objects.get(pk=run_id).state_name == "Running"
    assert released(staff, (run_id, 1)) == ["started"]
    after = background(run_id)
    assert (after.claimed_by, after.dispatch) == ("w:1", 1)  # still the worker's: it is running it


@pytest.mark.parametrize("final", [("COMPLETED", "Completed"), ("FAILED", "Failed"), ("CRASHED", "Crashed")])
def test_a_final_run_is_started(staff, final):
    run_id = claimed_by_w1(staff)
    record([state_event("task", uuid.UUID(run_id), "RUNNING", "Running", run_count=1),
            state_event("task", uuid.UUID(run_id), final[0], final[1], run_count=1)])
    assert TaskRun.objects.get(pk=run_id).state_name == final[1]
    assert released(staff, (run_id, 1)) == ["started"]
    assert background(run_id).dispatch == 1


def test_a_cancelled_run_is_not_dispatched_again(staff):
    run_id = claimed_by_w1(staff)
    assert staff.post(f"/api/task-runs/{run_id}/cancel/").status_code == 200
    assert released(staff, (run_id, 1)) in (["started"], ["not held"])
    assert background(run_id).dispatch == 1
    assert TaskRun.objects.get(pk=run_id).state_name == "Cancelled"


# --- the broker is down ---

def test_a_broker_failure_is_503_and_changes_nothing(staff, monkeypatch):
    run_id = claimed_by_w1(staff)

    def down(runs):
        raise BrokerUnavailable("the task queue (broker) is not reachable: test")

    monkeypatch.setattr(dispatch, "send_runs", down)
    response = release(staff, (run_id, 1))
    assert response.status_code == 503, response.content
    assert "broker" in response.json()["detail"]
    after = background(run_id)
    assert (after.claimed_by, after.dispatch) == ("w:1", 1)  # rolled back: the worker's claim stands
    monkeypatch.undo()
    assert released(staff, (run_id, 1)) == ["released"]


# --- bad requests ---

ONE = {"kind": "task", "id": "00000000-0000-4000-8000-000000000000", "dispatch": 1}


@pytest.mark.parametrize("body", [
    {},
    [],
    "x",
    None,
    {"worker": "w:1"},
    {"release": [ONE]},
    {"worker": "w:1", "release": []},
    {"worker": "w:1", "release": "x"},
    {"worker": "w:1", "release": {"0": ONE}},
    {"worker": "w:1", "release": [None]},
    {"worker": "w:1", "release": [[]]},
    {"worker": "", "release": [ONE]},
    {"worker": 5, "release": [ONE]},
    {"worker": None, "release": [ONE]},
    {"worker": "w" * 256, "release": [ONE]},
    {"worker": "w:1", "release": [{**ONE, "kind": "job"}]},
    {"worker": "w:1", "release": [{**ONE, "kind": None}]},
    {"worker": "w:1", "release": [{**ONE, "id": "not-a-uuid"}]},
    {"worker": "w:1", "release": [{**ONE, "id": 12}]},
    {"worker": "w:1", "release": [{**ONE, "id": None}]},
    {"worker": "w:1", "release": [{**ONE, "dispatch": 0}]},
    {"worker": "w:1", "release": [{**ONE, "dispatch": -1}]},
    {"worker": "w:1", "release": [{**ONE, "dispatch": 2**31}]},
    {"worker": "w:1", "release": [{**ONE, "dispatch": 2**70}]},
    {"worker": "w:1", "release": [{**ONE, "dispatch": "x"}]},
    {"worker": "w:1", "release": [{**ONE, "dispatch": 1.5}]},
    {"worker": "w:1", "release": [{"kind": "task", "id": ONE["id"]}]},
    {"worker": "w:1", "release": [ONE] * 101},
    {"worker": "w:1", "claims": [ONE]},  # the claims body, sent to the release endpoint
])
def test_bad_bodies_are_400(staff, body):
    response = staff.post(RELEASE, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()


def test_a_worker_name_with_unstorable_text_is_held_as_it_was_claimed(staff):
    """A NUL becomes U+FFFD in the claim and in the release alike (never a 500 on PostgreSQL)."""
    run_id = delayed_run(staff)
    assert claims(staff, (run_id, 1), worker="w\x00:1") == ["claimed"]
    assert background(run_id).claimed_by == "w\ufffd:1"
    assert released(staff, (run_id, 1), worker="w\x00:2") == ["not held"]
    assert released(staff, (run_id, 1), worker="w\x00:1") == ["released"]


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b'{"worker": "w:1", "release": [', b"nan", b"1e999"])
def test_malformed_json_is_400(staff, raw):
    response = staff.post(RELEASE, raw, content_type="application/json")
    assert response.status_code == 400, response.content


def test_a_form_body_is_415(staff):
    assert staff.post(RELEASE, {"worker": "w:1"}).status_code == 415


def test_only_post(staff):
    assert staff.get(RELEASE).status_code == 405


def test_a_hundred_at_once_are_answered(staff):
    run_id = claimed_by_w1(staff)
    held = [(run_id, 1)] + [(str(uuid.uuid4()), 1)] * 99
    outcomes = released(staff, *held)
    assert len(outcomes) == 100 and outcomes[0] == "released" and set(outcomes[1:]) == {"not held"}


def test_release_needs_an_ingest_or_admin_key(db):
    body = {"worker": "w:1", "release": [ONE]}
    assert APIClient().post(RELEASE, body, format="json").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer orc_nope")
    assert bad.post(RELEASE, body, format="json").status_code == 401
    assert client_with_key("read").post(RELEASE, body, format="json").status_code == 403
    for scope in ("ingest", "admin"):
        response = client_with_key(scope).post(RELEASE, body, format="json")
        assert response.status_code == 200, (scope, response.content)
        assert response.json()["released"][0]["outcome"] == "not held"


def test_a_read_key_changes_nothing(staff):
    run_id = claimed_by_w1(staff)
    body = {"worker": "w:1", "release": [{"kind": "task", "id": run_id, "dispatch": 1}]}
    assert client_with_key("read").post(RELEASE, body, format="json").status_code == 403
    assert (background(run_id).claimed_by, background(run_id).dispatch) == ("w:1", 1)


# --- housekeeping ---

STALE = timedelta(seconds=60)


def claimed_run(worker: str, state=("RUNNING", "Running"), claimed_ago=timedelta(minutes=5), run_count=1) -> TaskRun:
    run = make_task_run(state=state, run_count=run_count)
    BackgroundRun.objects.create(run_id=run.id, kind="task", key=run.task_key, parameters={"a": 1}, dispatch=1,
                                 message_id=str(uuid.uuid4()), claimed_by=worker,
                                 claimed_at=timezone_now() - claimed_ago)
    return run


def timezone_now():
    from django.utils import timezone

    return timezone.now()


@pytest.mark.django_db(transaction=True)
def test_a_silent_workers_scheduled_run_is_dispatched_again_not_crashed(staff):
    make_worker("gone:1", seen_ago=timedelta(minutes=3))
    run = claimed_run("gone:1", state=("SCHEDULED", "Scheduled"), run_count=0)
    old_message = background(run.id).message_id
    crashed = crash_runs_of_silent_workers(stale_after=STALE)
    assert str(run.id) not in crashed
    run.refresh_from_db()
    assert (run.state_type, run.state_name) == ("SCHEDULED", "Scheduled")
    assert "Crashed" not in [s.name for s in run.states.all()]
    after = background(run.id)
    assert after.dispatch == 2 and after.claimed_by == "" and after.claimed_at is None
    assert after.message_id != old_message
    # The old message is stale; the new one goes to whichever worker takes it.
    assert claims(staff, (str(run.id), 1), worker="gone:1") == ["stale"]
    assert claims(staff, (str(run.id), 2), worker="w:2") == ["claimed"]


@pytest.mark.django_db(transaction=True)
def test_a_silent_workers_running_run_is_crashed_and_its_scheduled_one_dispatched_again():
    make_worker("gone:2", seen_ago=timedelta(minutes=3))
    running = claimed_run("gone:2")
    waiting = claimed_run("gone:2", state=("SCHEDULED", "Scheduled"), run_count=0)
    crashed = crash_runs_of_silent_workers(stale_after=STALE)
    assert crashed == [str(running.id)]
    running.refresh_from_db()
    assert (running.state_type, running.state_name) == ("CRASHED", "Crashed")
    assert "Worker gone:2 stopped heart-beating" in running.state_message
    assert background(running.id).claimed_by == "" and background(running.id).dispatch == 1
    assert TaskRun.objects.get(pk=waiting.id).state_name == "Scheduled"
    assert (background(waiting.id).claimed_by, background(waiting.id).dispatch) == ("", 2)
    # A second pass finds nothing left to do.
    assert crash_runs_of_silent_workers(stale_after=STALE) == []
    assert background(waiting.id).dispatch == 2


@pytest.mark.django_db(transaction=True)
def test_a_live_workers_scheduled_run_is_left_claimed():
    make_worker("alive:1", seen_ago=timedelta(seconds=2))
    run = claimed_run("alive:1", state=("SCHEDULED", "Scheduled"), run_count=0)
    assert crash_runs_of_silent_workers(stale_after=STALE) == []
    assert (background(run.id).claimed_by, background(run.id).dispatch) == ("alive:1", 1)


@pytest.mark.django_db(transaction=True)
def test_a_recent_claim_of_a_never_seen_worker_is_left_alone():
    run = claimed_run(f"new:{uuid.uuid4().hex[:4]}", state=("SCHEDULED", "Scheduled"), claimed_ago=timedelta(seconds=1))
    assert crash_runs_of_silent_workers(stale_after=STALE) == []
    assert background(run.id).dispatch == 1


@pytest.mark.django_db(transaction=True)
def test_a_broker_failure_leaves_the_scheduled_run_for_the_next_pass(monkeypatch):
    """The new dispatch is kept only with its message (found committed without one before bbd9127)."""
    make_worker("gone:3", seen_ago=timedelta(minutes=3))
    run = claimed_run("gone:3", state=("SCHEDULED", "Scheduled"), run_count=0)

    def down(runs):
        raise BrokerUnavailable("the task queue (broker) is not reachable: test")

    monkeypatch.setattr(dispatch, "send_runs", down)
    assert crash_runs_of_silent_workers(stale_after=STALE) == []
    assert (background(run.id).claimed_by, background(run.id).dispatch) == ("gone:3", 1)  # rolled back
    assert TaskRun.objects.get(pk=run.id).state_name == "Scheduled"
    monkeypatch.undo()
    assert crash_runs_of_silent_workers(stale_after=STALE) == []
    assert (background(run.id).claimed_by, background(run.id).dispatch) == ("", 2)
