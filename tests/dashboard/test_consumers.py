"""The live-updates websocket (dashboard/consumers.py), through Channels' WebsocketCommunicator
on the real ASGI application, against the in-memory layer and channels-redis."""
from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from dashboard import consumers, fragments
from orchestrator import broadcast
from tests.dashboard.channel_layers import channel_layer  # noqa: F401  (the fixture)
from orchestrator.asgi import application
from orchestrator.ingest import ingest_batch
from tests.orchestrator.event_factory import at, completed_task_run, flow_run_created, new_id, state

pytestmark = pytest.mark.django_db(transaction=True)
RECEIVE = 10  # seconds any single frame may take to arrive on a loaded machine


@pytest.fixture
def renders(monkeypatch):
    """Every render_update call the consumer makes, answered with a JSON echo of its arguments."""
    calls: list[tuple[str, str, fragments.Changes | None]] = []

    def recording_render(path, query, user, changes):
        calls.append((path, query.urlencode(), changes))
        if changes is None:
            return json.dumps({"refresh": path, "user": user.get_username()})
        return json.dumps({"flow_run_ids": sorted(changes.flow_run_ids), "task_run_ids": sorted(changes.task_run_ids),
                           "logs": changes.logs, "workers": changes.workers})

    monkeypatch.setattr(fragments, "render_update", recording_render)
    return calls


@pytest.fixture
def signed_in() -> Client:
    user = get_user_model().objects.create_user("ada", password="pw-for-tests-1")
    client = Client()
    client.force_login(user)
    return client


def socket(page: str, client: Client | None = None, origin: bytes | None = b"http://testserver") -> WebsocketCommunicator:
    headers = [(b"host", b"testserver")] + ([(b"origin", origin)] if origin is not None else [])
    if client is not None:
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    from urllib.parse import quote

    return WebsocketCommunicator(application, f"/ws/live/?page={quote(page, safe='')}", headers=headers)


async def frame(communicator: WebsocketCommunicator) -> dict:
    return json.loads(await communicator.receive_from(timeout=RECEIVE))


def test_anonymous_socket_is_closed(channel_layer, renders):
    async def scenario():
        connected, _ = await socket("/").connect(timeout=RECEIVE)
        return connected

    assert async_to_sync(scenario)() is False
    assert renders == []


def test_socket_from_another_site_is_refused(channel_layer, renders, signed_in):
    async def scenario():
        connected, _ = await socket("/", signed_in, origin=b"https://evil.example").connect(timeout=RECEIVE)
        return connected

    assert async_to_sync(scenario)() is False


def test_signed_in_client_without_origin_connects(channel_layer, renders, signed_in):
    async def scenario():
        communicator = socket("/", signed_in, origin=None)  # not a browser: no page can drive it
        connected, _ = await communicator.connect(timeout=RECEIVE)
        await communicator.disconnect()
        return connected

    assert async_to_sync(scenario)() is True


def test_connect_sends_the_whole_page(channel_layer, renders, signed_in):
    async def scenario():
        communicator = socket("/task-runs/?state=FAILED,CRASHED", signed_in)
        connected, _ = await communicator.connect(timeout=RECEIVE)
        assert connected
        first = await frame(communicator)
        await communicator.disconnect()
        return first

    assert async_to_sync(scenario)() == {"refresh": "/task-runs/", "user": "ada"}
    assert renders == [("/task-runs/", "state=FAILED%2CCRASHED", None)]


def test_reconnecting_page_catches_up_with_a_full_refresh(channel_layer, renders, signed_in):
    fr = new_id()

    async def scenario():
        page = f"/flow-runs/{fr}/"
        first = socket(page, signed_in)
        assert (await first.connect(timeout=RECEIVE))[0]
        await frame(first)
        await first.disconnect()  # away: a change happens that this page never hears about
        await database_sync_to_async(ingest_batch)([flow_run_created(fr)])
        second = socket(page, signed_in)
        assert (await second.connect(timeout=RECEIVE))[0]
        caught_up = await frame(second)
        await second.disconnect()
        return caught_up

    assert async_to_sync(scenario)() == {"refresh": f"/flow-runs/{fr}/", "user": "ada"}
    assert [changes for _, _, changes in renders] == [None, None]


def test_ingested_batch_reaches_the_flow_run_page(channel_layer, renders, signed_in):
    fr = new_id()
    tr, task_events = completed_task_run(fr)

    async def scenario():
        communicator = socket(f"/flow-runs/{fr}/", signed_in)
        assert (await communicator.connect(timeout=RECEIVE))[0]
        await frame(communicator)  # the refresh on connect
        await database_sync_to_async(ingest_batch)([flow_run_created(fr), *task_events])
        update = await frame(communicator)
        await communicator.disconnect()
        return update

    assert async_to_sync(scenario)() == {"flow_run_ids": [fr], "task_run_ids": [tr], "logs": True, "workers": False}


def test_ingested_batch_reaches_the_task_run_page(channel_layer, renders, signed_in):
    fr = new_id()
    tr, task_events = completed_task_run(fr)

    async def scenario():
        communicator = socket(f"/task-runs/{tr}/", signed_in)
        assert (await communicator.connect(timeout=RECEIVE))[0]
        await frame(communicator)
        await database_sync_to_async(ingest_batch)([flow_run_created(fr), *task_events])
        update = await frame(communicator)
        await communicator.disconnect()
        return update

    assert async_to_sync(scenario)() == {"flow_run_ids": [], "task_run_ids": [tr], "logs": True, "workers": False}


def test_a_burst_of_group_messages_is_coalesced_into_few_frames(channel_layer, renders, signed_in, monkeypatch):
    window = 0.5
    monkeypatch.setattr(consumers.LiveUpdatesConsumer, "window", window)
    pushed_at: list[float] = []  # when the consumer sent each frame, on its own clock
    real_send = consumers.LiveUpdatesConsumer.send

    async def timed_send(self, *args, **kwargs):
        pushed_at.append(asyncio.get_running_loop().time())
        await real_send(self, *args, **kwargs)

    monkeypatch.setattr(consumers.LiveUpdatesConsumer, "send", timed_send)
    flow_run_ids = [new_id() for _ in range(200)]

    async def scenario():
        communicator = socket("/", signed_in)
        assert (await communicator.connect(timeout=RECEIVE))[0]
        await frame(communicator)
        for fr in flow_run_ids:
            await channel_layer.group_send(broadcast.RUNS_GROUP, {"type": "runs.changed", "flow_run_ids": [fr]})
        seen: set[str] = set()
        frames = 0
        while seen != set(flow_run_ids):
            seen.update((await frame(communicator))["flow_run_ids"])
            frames += 1
        await communicator.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert frames < 20, f"{frames} frames for 200 messages"
    gaps = [b - a for a, b in zip(pushed_at, pushed_at[1:])]
    assert all(gap >= window * 0.95 for gap in gaps), gaps


@pytest.mark.slow
@pytest.mark.parametrize("channel_layer", ["redis"], indirect=True)
def test_idle_socket_still_gets_updates(channel_layer, renders, signed_in):
    """Idle for longer than channels-redis's 5 s blocking read (a redis-py 8 socket timeout killed it)."""
    fr = new_id()

    async def scenario():
        communicator = socket("/", signed_in)
        assert (await communicator.connect(timeout=RECEIVE))[0]
        await frame(communicator)
        await asyncio.sleep(7)  # the behaviour under test is idleness itself
        await channel_layer.group_send(broadcast.RUNS_GROUP, {"type": "runs.changed", "flow_run_ids": [fr]})
        update = await frame(communicator)
        await communicator.disconnect()
        return update

    assert async_to_sync(scenario)()["flow_run_ids"] == [fr]


def test_logging_out_closes_the_socket(channel_layer, renders, signed_in):
    async def scenario():
        communicator = socket("/", signed_in)
        assert (await communicator.connect(timeout=RECEIVE))[0]
        await frame(communicator)
        await database_sync_to_async(signed_in.post)("/logout/")
        closed = await communicator.receive_output(timeout=RECEIVE)
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": consumers.SIGNED_OUT}


def test_socket_of_an_ended_session_closes_at_its_next_push(channel_layer, renders, signed_in, monkeypatch):
    monkeypatch.setattr(consumers, "SESSION_RECHECK", 0.0)
    fr = new_id()

    async def scenario():
        communicator = socket("/", signed_in)
        assert (await communicator.connect(timeout=RECEIVE))[0]
        await frame(communicator)
        # The session ends without a logout signal (expired, or cleared by an admin).
        from django.contrib.sessions.models import Session

        await database_sync_to_async(Session.objects.all().delete)()
        await database_sync_to_async(ingest_batch)([flow_run_created(fr)])
        return await communicator.receive_output(timeout=RECEIVE)

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": consumers.SIGNED_OUT}


@pytest.mark.parametrize(("page", "groups"), [
    ("/", ["runs"]),
    ("/?state=FAILED&flow=etl", ["runs"]),
    ("/flow-runs/6f1c2a1e-8a53-4c7e-9d0b-3f2e1a4b5c6d/", ["flow-run.6f1c2a1e8a534c7e9d0b3f2e1a4b5c6d"]),
    ("/task-runs/", ["task-runs"]),
    ("/task-runs/6F1C2A1E-8A53-4C7E-9D0B-3F2E1A4B5C6D/", ["task-run.6f1c2a1e8a534c7e9d0b3f2e1a4b5c6d", "task-run-pages"]),
    ("/workers/", ["workers"]),
    ("/flow-runs/not-a-uuid/", []),
    ("https://evil.example/", []),
    ("//evil.example/", []),
])
def test_page_path_maps_to_its_groups(page, groups):
    from urllib.parse import quote

    path, _ = consumers.page_of(f"page={quote(page, safe='')}".encode())
    assert consumers.groups_for_path(path) == groups


def test_a_failed_render_keeps_the_socket_and_the_next_push_refreshes_all(channel_layer, renders, signed_in,
                                                                          monkeypatch):
    recording = fragments.render_update
    failures = [RuntimeError("template broke")]

    def failing_once(path, query, user, changes):
        if failures:
            raise failures.pop()
        return recording(path, query, user, changes)

    monkeypatch.setattr(fragments, "render_update", failing_once)
    fr = new_id()

    async def scenario():
        communicator = socket("/", signed_in)
        assert (await communicator.connect(timeout=RECEIVE))[0]  # its refresh fails to render
        await channel_layer.group_send(broadcast.RUNS_GROUP, {"type": "runs.changed", "flow_run_ids": [fr]})
        pushed = await frame(communicator)
        await communicator.disconnect()
        return pushed

    assert async_to_sync(scenario)() == {"refresh": "/", "user": "ada"}


def test_after_the_refresh_a_flow_run_page_gets_changed_gantt_rows_alone(channel_layer, signed_in):
    """Real renders: the refresh carries the Gantt (and its layout); a later state change on the same
    layout carries that task run's row alone, the same HTML for every socket on the page."""
    fr = new_id()
    tr = new_id()
    from tests.orchestrator.event_factory import task_run_created

    ingest_batch([flow_run_created(fr), task_run_created(tr, fr),
                  state("task_run", tr, 1, at(1.2), "RUNNING", run_count=1, flow_run_id=fr)])

    async def scenario():
        sockets = [socket(f"/flow-runs/{fr}/", signed_in) for _ in range(2)]
        for communicator in sockets:
            assert (await communicator.connect(timeout=RECEIVE))[0]
        refreshes = [await communicator.receive_from(timeout=RECEIVE) for communicator in sockets]
        await database_sync_to_async(ingest_batch)(
            [state("task_run", tr, 2, at(2), "COMPLETED", run_count=1, flow_run_id=fr)])
        updates = [await communicator.receive_from(timeout=RECEIVE) for communicator in sockets]
        for communicator in sockets:
            await communicator.disconnect()
        return refreshes, updates

    refreshes, updates = async_to_sync(scenario)()
    assert all('id="gantt" class="gantt"' in html for html in refreshes)
    assert updates[0] == updates[1]
    assert f'<li id="task-run-{tr}" class="gantt-row" hx-swap-oob="true" data-state-type="COMPLETED"' in updates[0]
    assert 'id="gantt"' not in updates[0] and 'id="flow-run-summary"' in updates[0]
