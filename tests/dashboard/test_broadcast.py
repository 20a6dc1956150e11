"""Publishing after ingestion (orchestrator/broadcast.py): one message per group per batch,
sends only to groups someone listens on, and never an error into ingestion."""
from __future__ import annotations

import asyncio
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from orchestrator import broadcast
from tests.dashboard.channel_layers import channel_layer  # noqa: F401  (the fixture)
from orchestrator.ingest import ingest_batch
from tests.orchestrator.event_factory import at, completed_task_run, flow_run_created, heartbeat, new_id, state

pytestmark = pytest.mark.django_db(transaction=True)


def flow_with_tasks(tasks: int) -> tuple[str, list[str], list[dict]]:
    fr = new_id()
    events = [flow_run_created(fr), state("flow_run", fr, 1, at(0.5), "RUNNING", run_count=1)]
    task_run_ids = []
    for i in range(tasks):
        tr, task_events = completed_task_run(fr, start=1 + i / 1000)
        task_run_ids.append(tr)
        events += task_events
    return fr, task_run_ids, events


async def drain(layer, channel: str, quiet: float = 0.5) -> list[dict]:
    """Every message the channel holds, waiting `quiet` seconds after the last for more."""
    messages = []
    while True:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), quiet))
        except asyncio.TimeoutError:
            return messages


def test_a_batch_sends_one_message_per_group(channel_layer):
    fr, task_run_ids, events = flow_with_tasks(300)
    watched_task = task_run_ids[7]
    groups = [broadcast.RUNS_GROUP, broadcast.flow_run_group(fr), broadcast.TASK_RUNS_GROUP,
              broadcast.task_run_group(watched_task)]

    async def scenario():
        channel = await channel_layer.new_channel()
        for group in groups:
            await channel_layer.group_add(group, channel)
        # As an open task run page does: it also joins the group that says some task run page is open.
        await channel_layer.group_add(broadcast.TASK_RUN_PAGES_GROUP, await channel_layer.new_channel())
        result = await database_sync_to_async(ingest_batch)(events)
        assert result.accepted == len(events) and not result.rejected
        return await drain(channel_layer, channel)

    messages = async_to_sync(scenario)()
    by_type = {m["type"]: m for m in messages}
    assert len(messages) == 4 and len(by_type) == 4, [m["type"] for m in messages]
    assert by_type["runs.changed"]["flow_run_ids"] == [fr]
    flow_message = by_type["flow_run.changed"]
    assert flow_message["flow_run_id"] == fr
    assert sorted(flow_message["task_run_ids"]) == sorted(task_run_ids)
    assert flow_message["logs"] is True
    assert sorted(by_type["task_runs.changed"]["task_run_ids"]) == sorted(task_run_ids)
    assert by_type["task_run.changed"] == {"type": "task_run.changed", "task_run_id": watched_task, "logs": True}


def test_groups_nobody_listens_on_get_no_send(channel_layer, monkeypatch):
    fr, task_run_ids, events = flow_with_tasks(500)
    sent_to: list[str] = []
    real_send = channel_layer.group_send

    async def counting_send(group, message):
        sent_to.append(group)
        await real_send(group, message)

    monkeypatch.setattr(channel_layer, "group_send", counting_send)

    async def scenario():
        channel = await channel_layer.new_channel()
        await channel_layer.group_add(broadcast.RUNS_GROUP, channel)
        await database_sync_to_async(ingest_batch)(events)
        return await drain(channel_layer, channel)

    messages = async_to_sync(scenario)()
    assert sent_to == [broadcast.RUNS_GROUP]
    assert [m["type"] for m in messages] == ["runs.changed"]


def test_a_repeated_batch_sends_nothing(channel_layer):
    _, _, events = flow_with_tasks(3)

    async def scenario():
        await database_sync_to_async(ingest_batch)(events)
        assert await database_sync_to_async(broadcast.flush)(10)  # the first batch's messages are out
        channel = await channel_layer.new_channel()
        await channel_layer.group_add(broadcast.RUNS_GROUP, channel)
        await database_sync_to_async(ingest_batch)(events)  # every event a duplicate: nothing changed
        return await drain(channel_layer, channel)

    assert async_to_sync(scenario)() == []


def test_worker_heartbeat_tells_the_workers_group(channel_layer):
    async def scenario():
        channel = await channel_layer.new_channel()
        await channel_layer.group_add(broadcast.WORKERS_GROUP, channel)
        await database_sync_to_async(ingest_batch)([heartbeat("w1", 0, at(0), task_keys=["add-5f3a9c1e"])])
        return await drain(channel_layer, channel)

    assert async_to_sync(scenario)() == [{"type": "workers.changed"}]


def test_task_run_without_its_flow_run_in_the_batch_still_reaches_the_flow_run_page(channel_layer):
    fr, (tr,), events = flow_with_tasks(1)
    ingest_batch(events)
    assert broadcast.flush(10)
    later = state("task_run", tr, 9, at(60), "FAILED", run_count=1)  # names no flow run
    del later["flow_run_id"]

    async def scenario():
        channel = await channel_layer.new_channel()
        await channel_layer.group_add(broadcast.flow_run_group(fr), channel)
        await database_sync_to_async(ingest_batch)([later])
        return await drain(channel_layer, channel)

    assert async_to_sync(scenario)() == [
        {"type": "flow_run.changed", "flow_run_id": fr, "task_run_ids": [tr], "logs": False}
    ]


def test_other_domain_code_publishes_after_commit(channel_layer):
    from django.db import transaction

    fr, tr = new_id(), new_id()

    def retry_like_change() -> list:
        with transaction.atomic():
            broadcast.publish_on_commit(flow_run_ids=[fr], task_runs={tr: fr})
            held_back = async_to_sync(drain)(channel_layer, channel, 0.2)
        return held_back

    async def scenario():
        nonlocal channel
        channel = await channel_layer.new_channel()
        await channel_layer.group_add(broadcast.task_run_group(tr), channel)
        await channel_layer.group_add(broadcast.TASK_RUN_PAGES_GROUP, await channel_layer.new_channel())
        held_back = await database_sync_to_async(retry_like_change)()
        return held_back, await drain(channel_layer, channel)

    channel = ""
    held_back, after_commit = async_to_sync(scenario)()
    assert held_back == []
    assert after_commit == [{"type": "task_run.changed", "task_run_id": tr, "logs": False}]


def test_channel_layer_failure_is_logged_not_raised(settings, caplog, transactional_db):
    from tests.shipping.live_server import free_port, wait_until

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]}}}
    broadcast._publisher.quiet_until = 0.0
    _, _, events = flow_with_tasks(2)
    with caplog.at_level(logging.WARNING, logger="orchestrator.broadcast"):
        result = ingest_batch(events)
        assert result.accepted == len(events)
        wait_until(lambda: any("publishing failed" in r.getMessage() for r in caplog.records), 30,
                   message="the publishing failure in the log")
    broadcast._publisher.quiet_until = 0.0
