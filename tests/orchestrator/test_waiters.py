"""orchestrator/waiters.py: a server process's long polls are woken by its own ingestion directly,
without the channel layer; and orchestrator/ingest.py marks task runs without a flow run so that
live updates look nothing up for them (broadcast.NO_FLOW_RUN)."""
from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer
from django.db import connections

import api.views.wait as wait_view
from api.models import APIKey
from orchestrator import broadcast
from orchestrator.ingest import ingest_batch
from orchestrator.waiters import LocalWaiters, waiters
from tests.asgi import body_of, drive, http_scope, status_of
from tests.orchestrator.event_factory import at, flow_run_created, new_id, state, task_run_created

PROMPT = 0.5  # seconds: "at once", generously (the backstop below is 30 s, its default 1 s)
LONG_BACKSTOP = 30.0


# --- LocalWaiters ---

def test_wake_from_another_thread_sets_the_event_on_its_loop():
    registry = LocalWaiters()

    async def scenario() -> tuple[float, int]:
        event = asyncio.Event()
        registry.add("r1", event)
        assert len(registry) == 1
        started = time.monotonic()
        thread = threading.Thread(target=registry.wake, args=(["r1"],))
        thread.start()
        await asyncio.wait_for(event.wait(), 5)
        thread.join(5)
        return time.monotonic() - started, len(registry)

    elapsed, left = asyncio.run(scenario())
    assert elapsed < PROMPT
    assert left == 1  # waking does not remove: the long poll discards its own entry


def test_every_waiter_of_a_run_is_woken_each_on_its_own_loop():
    registry = LocalWaiters()
    ready = threading.Barrier(3)
    woken: list[str] = []

    def poll(name: str) -> None:
        async def scenario() -> None:
            event = asyncio.Event()
            registry.add("r", event)
            ready.wait(5)
            await asyncio.wait_for(event.wait(), 5)
            woken.append(name)
            registry.discard("r", event)

        asyncio.run(scenario())

    threads = [threading.Thread(target=poll, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    ready.wait(5)
    registry.wake(["r", "other"])
    for thread in threads:
        thread.join(5)
    assert sorted(woken) == ["a", "b"]
    assert len(registry) == 0 and registry._waiting == {}


def test_discard_removes_only_that_event():
    registry = LocalWaiters()

    async def scenario() -> None:
        first, second, elsewhere = asyncio.Event(), asyncio.Event(), asyncio.Event()
        registry.add("r", first)
        registry.add("r", second)
        registry.add("s", elsewhere)
        assert len(registry) == 3
        registry.discard("r", first)
        assert len(registry) == 2
        registry.wake(["r"])
        await asyncio.wait_for(second.wait(), 5)
        await asyncio.sleep(0)  # any callback scheduled for `first` would have run by now
        assert not first.is_set() and not elsewhere.is_set()
        registry.discard("r", second)
        registry.discard("s", elsewhere)
        assert len(registry) == 0 and registry._waiting == {}
        registry.discard("r", second)  # twice: harmless
        registry.discard("never", first)  # unknown: harmless

    asyncio.run(scenario())


def test_waking_unknown_ids_or_nobody_is_a_no_op():
    registry = LocalWaiters()
    registry.wake([])
    registry.wake(["nobody", str(uuid.uuid4())])

    async def scenario() -> None:
        event = asyncio.Event()
        registry.add("r", event)
        registry.wake(["s", "t"])
        registry.wake(iter(()))
        await asyncio.sleep(0.05)
        assert not event.is_set()
        assert len(registry) == 1

    asyncio.run(scenario())


def test_a_closed_loop_does_not_raise():
    registry = LocalWaiters()

    async def scenario() -> None:
        registry.add("r", asyncio.Event())  # the poll goes away without discarding (its loop closes)

    asyncio.run(scenario())
    registry.wake(["r"])  # must not raise
    registry.wake(["r"])
    assert len(registry) == 1


def test_a_closed_loop_does_not_keep_others_from_waking():
    registry = LocalWaiters()

    async def gone() -> None:
        registry.add("r", asyncio.Event())

    asyncio.run(gone())

    async def live() -> None:
        event = asyncio.Event()
        registry.add("r", event)
        threading.Thread(target=registry.wake, args=(["r"],)).start()
        await asyncio.wait_for(event.wait(), 5)

    asyncio.run(live())


def test_add_needs_a_running_loop():
    with pytest.raises(RuntimeError):
        LocalWaiters().add("r", asyncio.Event())


def test_the_process_registry_is_a_local_waiters():
    assert isinstance(waiters, LocalWaiters)


# --- a long poll woken by this process's ingestion, whatever the channel layer does ---

class DeafLayer(InMemoryChannelLayer):
    """A channel layer whose messages never arrive."""

    async def receive(self, channel):
        await asyncio.Event().wait()


LAYERS = {
    "no layer": {},
    "deaf layer": {"default": {"BACKEND": "tests.orchestrator.test_waiters.DeafLayer"}},
}


@pytest.fixture(params=list(LAYERS))
def undelivering(request, settings, monkeypatch):
    settings.CHANNEL_LAYERS = LAYERS[request.param]  # channels resets its layers on setting_changed
    broadcast._publisher.quiet_until = 0.0
    monkeypatch.setattr(wait_view, "BACKSTOP", LONG_BACKSTOP)  # only a wake can answer promptly
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert (layer is None) if request.param == "no layer" else isinstance(layer, DeafLayer)
    return request.param


def running_task_run() -> str:
    run_id = new_id()
    result = ingest_batch([task_run_created(run_id, None, at(1)),
                           state("task_run", run_id, 1, at(2), "RUNNING", run_count=1)])
    assert result.accepted == 2 and not result.rejected
    return run_id


def complete(run_id: str) -> None:
    result = ingest_batch([state("task_run", run_id, 2, at(3), "COMPLETED", run_count=1, result={"v": 7})])
    assert result.accepted == 1 and not result.rejected


def close_this_threads_connections() -> None:
    connections.close_all()


async def until_waiting(run_id: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while run_id not in waiters._waiting:
        assert time.monotonic() < deadline, "the long poll never registered"
        await asyncio.sleep(0.005)


async def poll_and_complete(run_id: str, poll, completer=None) -> tuple[object, float, bool]:
    """Start `poll`, complete the run once it waits; (its answer or None, seconds from the ingestion
    to the answer, whether it answered within PROMPT)."""
    task = asyncio.ensure_future(poll)
    try:
        await until_waiting(run_id)
        started = time.monotonic()
        await sync_to_async(completer or complete)(run_id)
        done, _ = await asyncio.wait([task], timeout=PROMPT)
        elapsed = time.monotonic() - started
        return (task.result() if done else None), elapsed, bool(done)
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await sync_to_async(close_this_threads_connections)()


@pytest.mark.django_db(transaction=True)
def test_a_long_poll_is_answered_at_once_by_an_ingestion_in_this_process(undelivering):
    run_id = running_task_run()
    answers, elapsed, prompt = asyncio.run(poll_and_complete(run_id, wait_view._wait(uuid.UUID(run_id), [], 20.0)))
    assert prompt, f"{undelivering}: the long poll was not answered within {PROMPT}s of the ingestion"
    answer = answers[uuid.UUID(run_id)]
    assert answer["final"] is True and answer["state"]["name"] == "Completed" and answer["result"] == {"v": 7}
    assert elapsed < PROMPT
    assert run_id not in waiters._waiting  # the poll discarded its entry


@pytest.mark.parametrize("form", [str.upper, lambda i: i.replace("-", ""), lambda i: "{" + i + "}"])
@pytest.mark.django_db(transaction=True)
def test_an_event_naming_the_run_in_another_form_wakes_it_too(settings, monkeypatch, form):
    """Ingestion makes ids canonical: the wake names the run as the poll registered it."""
    settings.CHANNEL_LAYERS = {}
    monkeypatch.setattr(wait_view, "BACKSTOP", LONG_BACKSTOP)
    run_id = running_task_run()

    def complete_in_another_form(_run_id: str) -> None:
        event = state("task_run", form(run_id), 2, at(3), "COMPLETED", run_count=1)
        assert ingest_batch([event]).accepted == 1

    poll = wait_view._wait(uuid.UUID(run_id), [], 20.0)
    answers, _, prompt = asyncio.run(poll_and_complete(run_id, poll, complete_in_another_form))
    assert prompt and answers[uuid.UUID(run_id)]["final"] is True


@pytest.mark.django_db(transaction=True)
def test_without_the_wake_the_same_poll_waits_for_the_backstop(undelivering, monkeypatch):
    """The control: what the test above measures is the direct wake, nothing else."""
    monkeypatch.setattr(waiters, "wake", lambda run_ids: None)
    run_id = running_task_run()
    answers, _, prompt = asyncio.run(poll_and_complete(run_id, wait_view._wait(uuid.UUID(run_id), [], 20.0)))
    assert not prompt and answers is None
    assert run_id not in waiters._waiting  # a cancelled poll discards its entry too


@pytest.mark.django_db(transaction=True)
def test_a_post_wait_through_the_asgi_app_is_answered_at_once(settings, monkeypatch):
    from orchestrator.asgi import application

    settings.CHANNEL_LAYERS = {}
    monkeypatch.setattr(wait_view, "BACKSTOP", LONG_BACKSTOP)
    _, key = APIKey.issue("waiter", "read")
    run_id = running_task_run()
    other = running_task_run()
    body = json.dumps({"ids": [run_id, other], "timeout": 20}).encode()
    scope = http_scope("/api/task-runs/wait/", headers=[("Content-Type", "application/json"),
                        ("Content-Length", str(len(body))), ("Authorization", f"Bearer {key}")])
    sent, elapsed, prompt = asyncio.run(poll_and_complete(run_id, drive(application, scope, [body])))
    assert prompt, f"the long poll was not answered within {PROMPT}s of the ingestion"
    assert status_of(sent) == 200
    content = json.loads(body_of(sent))
    assert [(r["id"], r["final"]) for r in content["runs"]] == [(run_id, True)]
    assert content["runs"][0]["result"] == {"v": 7}
    assert elapsed < PROMPT


# --- task runs without a flow run need no lookup ---

@pytest.fixture
def published(monkeypatch) -> list[broadcast.RunChanges]:
    """Every RunChanges ingestion publishes (after its commit), instead of publishing it."""
    captured: list[broadcast.RunChanges] = []
    monkeypatch.setattr(broadcast, "publish", captured.append)
    return captured


def only(changes: list[broadcast.RunChanges]) -> broadcast.RunChanges:
    assert len(changes) == 1, changes
    return changes[0]


@pytest.mark.django_db(transaction=True)
def test_a_task_run_without_a_flow_run_needs_no_lookup(published, django_assert_num_queries):
    run_id = new_id()
    assert ingest_batch([task_run_created(run_id, None, at(1))]).accepted == 1
    created = only(published)
    assert created.task_runs == {run_id: broadcast.NO_FLOW_RUN}
    published.clear()

    assert ingest_batch([state("task_run", run_id, 1, at(2), "RUNNING", run_count=1)]).accepted == 1
    changes = only(published)
    assert changes.task_runs == {run_id: broadcast.NO_FLOW_RUN}
    with django_assert_num_queries(0):
        broadcast._fill_in_flow_runs(changes)
    assert changes.task_runs == {run_id: broadcast.NO_FLOW_RUN}
    # No flow run's group is concerned, only the task runs' ones.
    messages = broadcast.group_messages(changes)
    assert set(messages) == {broadcast.TASK_RUNS_GROUP, broadcast.task_run_group(run_id)}


@pytest.mark.django_db(transaction=True)
def test_a_finished_task_run_without_a_flow_run_needs_no_lookup(published, django_assert_num_queries):
    run_id = new_id()
    ingest_batch([task_run_created(run_id, None, at(1)), state("task_run", run_id, 1, at(2), "RUNNING", run_count=1)])
    published.clear()
    ingest_batch([state("task_run", run_id, 2, at(3), "COMPLETED", run_count=1)])
    changes = only(published)
    assert changes.task_runs == {run_id: broadcast.NO_FLOW_RUN}
    assert changes.finished_task_run_ids == {run_id}
    with django_assert_num_queries(0):
        broadcast._fill_in_flow_runs(changes)


@pytest.mark.django_db(transaction=True)
def test_task_runs_of_a_flow_run_are_named_with_it_and_need_no_lookup(published, django_assert_num_queries):
    flow_run_id, with_flow, without = new_id(), new_id(), new_id()
    ingest_batch([flow_run_created(flow_run_id, at(0)), task_run_created(with_flow, flow_run_id, at(1)),
                  task_run_created(without, None, at(1))])
    published.clear()
    # State events that do not name the flow run: the rows say which it is, or that there is none.
    ingest_batch([state("task_run", with_flow, 1, at(2), "RUNNING", run_count=1, flow_run_id=None),
                  state("task_run", without, 1, at(2), "RUNNING", run_count=1, flow_run_id=None)])
    changes = only(published)
    assert changes.task_runs == {with_flow: flow_run_id, without: broadcast.NO_FLOW_RUN}
    with django_assert_num_queries(0):
        broadcast._fill_in_flow_runs(changes)


@pytest.mark.django_db(transaction=True)
def test_an_unknown_flow_run_is_still_looked_up_once(django_assert_num_queries):
    """The control: a change that does not say (None) costs one query, not one per task run."""
    ids = [new_id() for _ in range(3)]
    ingest_batch([task_run_created(i, None, at(1)) for i in ids])
    changes = broadcast.RunChanges(task_runs=dict.fromkeys(ids))
    with django_assert_num_queries(1):
        broadcast._fill_in_flow_runs(changes)
    assert changes.task_runs == dict.fromkeys(ids)  # still None: none has a flow run
