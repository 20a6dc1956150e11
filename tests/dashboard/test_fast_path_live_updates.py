"""Event batches served by the fast path (api/fast_path.py) still reach live pages at once, with the
embedded in-memory channel layer (`make up` without Redis): the publish after commit must go to the
server's own event loop, which owns the layer's queues."""
from __future__ import annotations

import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from django.test import override_settings

from api.fast_path import FastPath
from api.models import APIKey
from orchestrator import broadcast
from tests.asgi import drive, http_scope, status_of
from tests.orchestrator.event_factory import flow_run_created, new_id

pytestmark = pytest.mark.django_db(transaction=True)

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@override_settings(CHANNEL_LAYERS=IN_MEMORY)
def test_a_batch_through_the_fast_path_reaches_an_in_memory_subscriber_at_once(monkeypatch):
    from channels.layers import channel_layers

    publishing_loops = []
    send_to_listened = broadcast._send_to_listened

    async def recording(layer, messages):
        publishing_loops.append(asyncio.get_running_loop())
        return await send_to_listened(layer, messages)

    monkeypatch.setattr(broadcast, "_send_to_listened", recording)

    channel_layers.backends.clear()  # the override's layer, not one made earlier
    _, key = APIKey.issue("live-fast-path", "ingest")
    flow_run = new_id()
    body = json.dumps({"events": [flow_run_created(flow_run)]}).encode()
    refused = []

    def not_django(*args):
        refused.append(args)

    async def main() -> dict:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(broadcast.RUNS_GROUP, channel)

        async def django(scope_, receive_, send_):
            not_django(scope_)

        scope = http_scope("/api/events/", headers=[("Authorization", f"Bearer {key}"), ("Content-Type", "application/json"),
                                                    ("Content-Length", str(len(body)))])
        sent = await drive(FastPath(django), scope, [body])
        assert status_of(sent) == 200 and not refused
        # Published on this loop, the one that owns the in-memory layer's queues (not a loop of its own).
        assert publishing_loops == [asyncio.get_running_loop()]
        return await asyncio.wait_for(layer.receive(channel), timeout=2)

    message = asyncio.run(main())
    assert message["type"] == "runs.changed" and flow_run in message["flow_run_ids"]
