"""Scale-out: two Daphne processes on one PostgreSQL and one Redis (orchestrator/topology.py).

Both ingest the same events concurrently (every batch sent to both, in opposite orders):
each run, state and log is stored exactly once and each run's current state is its latest
by (occurred, seq). A message published through the project's channel layer in one
process reaches a subscriber in another (what live updates across processes rest on).
"""
from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import threading
import uuid

import httpx
import pytest

from orchestrator.topology import Topology, scale_out_environment, server_spec
from tests.reliability.conftest import reachable_redis_url
from tests.orchestrator.event_factory import at, completed_task_run, flow_run_created, log, new_id, state
from tests.shipping.live_server import ROOT, fresh_database, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    redis_url = reachable_redis_url()
    database_url, db, drop = fresh_database(tmp_path_factory.mktemp("scale-out"))
    if db.url is None:
        pytest.skip("scale-out runs on PostgreSQL (the postgres phase of make test)")
    env = scale_out_environment({**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                                 "ORCHESTRATOR_INGEST_RATE_PER_KEY": "0", "LOG_LEVEL": "WARNING"})
    specs = [server_spec("server1", "127.0.0.1", free_port()), server_spec("server2", "127.0.0.1", free_port())]
    topology = Topology(specs, env)
    try:
        topology.migrate()
        key = subprocess.run([sys.executable, "manage.py", "createapikey", "scale", "--scope", "admin"], cwd=ROOT,
                             env=env, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        topology.start()
        yield [f"http://127.0.0.1:{spec.port}" for spec in specs], key, db, env
    finally:
        topology.stop()
        drop()


def workload(flow_runs: int = 6, tasks: int = 15) -> tuple[list[dict], dict[str, str]]:
    """Events of several flow runs with tasks, states and logs; and each run's expected final state."""
    events: list[dict] = []
    final: dict[str, str] = {}
    for f in range(flow_runs):
        flow_run = new_id()
        events += [flow_run_created(flow_run, at(f)), state("flow_run", flow_run, 1, at(f + 0.1), "RUNNING", run_count=1)]
        for t in range(tasks):
            task_run, task_events = completed_task_run(flow_run, start=f + 0.2 + t * 0.01)
            events += task_events
            final[task_run] = "COMPLETED"
        # Two states at the same instant: the sequence number decides.
        events += [state("flow_run", flow_run, 8, at(f + 0.9), "RUNNING", "Retrying", run_count=2),
                   state("flow_run", flow_run, 9, at(f + 0.9), "FAILED", run_count=2),
                   log(10, at(f + 0.95), "done", flow_run_id=flow_run)]
        final[flow_run] = "FAILED"
    return events, final


def test_two_servers_ingest_concurrently_with_nothing_lost_or_duplicated(two_servers):
    bases, key, db, _ = two_servers
    events, final = workload()
    random.Random(7).shuffle(events)
    batches = [events[i : i + 40] for i in range(0, len(events), 40)]
    errors: list[str] = []

    def post(base: str, order: list[list[dict]]) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            for batch in order:
                response = client.post("/api/events/", json={"events": batch})
                if response.status_code != 200 or response.json()["rejected"]:
                    errors.append(f"{base}: {response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=post, args=(bases[0], batches)),
               threading.Thread(target=post, args=(bases[1], batches[::-1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors[:3]
    db.assert_holds(events)
    stored = dict(db._query("SELECT id::text, state_type FROM orchestrator_flowrun UNION ALL "
                            "SELECT id::text, state_type FROM orchestrator_taskrun"))
    assert {str(uuid.UUID(k)): v for k, v in stored.items()} == final


def test_a_group_message_from_one_process_reaches_a_subscriber_in_another(two_servers):
    """Published with the server's own channel layer (settings.CHANNEL_LAYERS from REDIS_URL)."""
    _, _, _, env = two_servers
    from channels_redis.core import RedisChannelLayer

    group = f"live-test-{uuid.uuid4().hex[:12]}"

    async def subscribe_then_receive() -> dict:
        layer = RedisChannelLayer(hosts=[env["REDIS_URL"]])
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        publish = (
            "from asgiref.sync import async_to_sync; from channels.layers import get_channel_layer; "
            f"async_to_sync(get_channel_layer().group_send)({group!r}, {{'type': 'run.updated', 'run': 'r1'}})"
        )
        await asyncio.to_thread(subprocess.run, [sys.executable, "manage.py", "shell", "-c", publish], cwd=ROOT,
                                env=env, check=True, timeout=120)
        try:
            return await asyncio.wait_for(layer.receive(channel), 30)
        finally:
            await layer.group_discard(group, channel)
            await layer.close_pools()

    message = asyncio.run(subscribe_then_receive())
    assert message == {"type": "run.updated", "run": "r1"}
