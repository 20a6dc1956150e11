"""A task run given a final state is announced to its own group at once, not after the publisher's
SEND_INTERVAL: a `.delay()` future's long poll waits there (channels-redis, the publisher's thread)."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from asgiref.sync import async_to_sync

from orchestrator import broadcast
from tests.dashboard.channel_layers import CI, layer_settings, redis_problem

LONG_INTERVAL = 60.0  # far longer than any wait below: a message that arrives did not wait for it


@pytest.fixture
def redis_layer(settings, monkeypatch):
    problem = redis_problem()
    if problem:
        if CI:
            pytest.fail(f"Redis is required under CI=true: {problem}")
        pytest.skip(problem)
    settings.CHANNEL_LAYERS = layer_settings("redis")
    broadcast._publisher.quiet_until = 0.0
    broadcast.publish(broadcast.RunChanges(flow_run_ids={str(uuid.uuid4())}))  # the interval starts now
    assert broadcast.flush(10)
    monkeypatch.setattr(broadcast, "SEND_INTERVAL", LONG_INTERVAL)
    broadcast._publisher.no_waiters_until = 0.0  # an earlier test's "nobody waits" is stale here
    from channels.layers import get_channel_layer

    yield get_channel_layer()
    monkeypatch.undo()
    with broadcast._publisher.lock:
        broadcast._publisher.lock.notify_all()  # the thread waits out the usual interval again
    assert broadcast.flush(10)


def listen_and_publish(layer, task_run_id: str, changes: broadcast.RunChanges, wait: float) -> dict | None:
    async def run() -> dict | None:
        channel = await layer.new_channel()
        groups = (broadcast.task_run_group(task_run_id), broadcast.TASK_RUN_PAGES_GROUP)
        for group in groups:
            await layer.group_add(group, channel)
        try:
            broadcast.publish(changes)
            try:
                return await asyncio.wait_for(layer.receive(channel), wait)
            except asyncio.TimeoutError:
                return None
        finally:
            for group in groups:
                await layer.group_discard(group, channel)

    return async_to_sync(run)()


def test_a_finished_task_run_is_announced_within_the_send_interval(redis_layer):
    task_run_id, flow_run_id = str(uuid.uuid4()), str(uuid.uuid4())
    changes = broadcast.RunChanges(task_runs={task_run_id: flow_run_id}, finished_task_run_ids={task_run_id})
    message = listen_and_publish(redis_layer, task_run_id, changes, wait=20)
    assert message is not None, "the finished run's group heard nothing"
    assert message["type"] == "task_run.changed" and message["task_run_id"] == task_run_id


def test_an_unfinished_task_run_waits_for_the_send_interval(redis_layer):
    task_run_id, flow_run_id = str(uuid.uuid4()), str(uuid.uuid4())
    changes = broadcast.RunChanges(task_runs={task_run_id: flow_run_id})
    assert listen_and_publish(redis_layer, task_run_id, changes, wait=1) is None
