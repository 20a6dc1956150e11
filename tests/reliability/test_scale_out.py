"""Scale-out: two Daphne processes on one PostgreSQL and one Redis (orchestrator/topology.py).

Both ingest the same events concurrently (every batch sent to both, in opposite orders):
each run, state and log is stored exactly once and each run's current state is its latest
by (occurred, seq). A message published through the project's channel layer in one
process reaches a subscriber in another; a signed-in websocket on one Daphne process gets
the live HTML for a run ingested through the other; `.delay()` runs spread over two task
workers (`python -m sdk serve`), each reporting to a different server process.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import threading
import uuid
from urllib.parse import quote

import httpx
import pytest

from orchestrator.topology import Topology, scale_out_environment, server_spec
from tests.reliability.conftest import reachable_redis_url
from tests.orchestrator.event_factory import at, completed_task_run, flow_run_created, log, new_id, state
from tests.reliability.websocket_client import WebsocketClient
from tests.shipping.live_server import ROOT, fresh_database, free_port, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    redis_url = reachable_redis_url()
    database_url, db, drop = fresh_database(tmp_path_factory.mktemp("scale-out"))
    if db.url is None:
        pytest.skip("scale-out runs on PostgreSQL (the postgres phase of make test)")
    prefix = f"scale{uuid.uuid4().hex[:10]}"  # this run's own Celery queues on the shared Redis
    base_env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env = scale_out_environment({**base_env, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                                 "ORCHESTRATOR_QUEUE_PREFIX": prefix,
                                 "ORCHESTRATOR_INGEST_RATE_PER_KEY": "0", "LOG_LEVEL": "WARNING"})
    specs = [server_spec("server1", "127.0.0.1", free_port()), server_spec("server2", "127.0.0.1", free_port())]
    topology = Topology(specs, env)
    try:
        topology.migrate()
        key = subprocess.run([sys.executable, "manage.py", "createapikey", "scale", "--scope", "admin"], cwd=ROOT,
                             env=env, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        subprocess.run([sys.executable, "manage.py", "shell", "-c",
                        "from django.contrib.auth import get_user_model; "
                        f"get_user_model().objects.create_user({USERNAME!r}, password={PASSWORD!r}, is_staff=True)"],
                       cwd=ROOT, env=env, check=True, timeout=120)
        topology.start()
        yield [f"http://127.0.0.1:{spec.port}" for spec in specs], key, db, env
    finally:
        topology.stop()
        drop()
        forget_queues(redis_url, prefix)


USERNAME, PASSWORD = "scale-admin", "scale-out-password-1"


def forget_queues(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    for name in client.scan_iter(match=f"*{prefix}*", count=500):
        client.delete(name)


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


def signed_in_cookie(base: str) -> str:
    """Log in through the real login form (CSRF token included); the session lives in the shared database."""
    with httpx.Client(base_url=base, timeout=60) as client:
        form = client.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
        response = client.post("/login/", data={"username": USERNAME, "password": PASSWORD,
                                                "csrfmiddlewaretoken": token})
        assert response.status_code == 302, response.text[:300]
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def test_a_websocket_on_one_server_sees_a_run_ingested_by_the_other(two_servers):
    (base_a, base_b), key, _, _ = two_servers
    cookie = signed_in_cookie(base_b)  # signed in through B, watching through A: the session is shared too
    port_a = int(base_a.rsplit(":", 1)[1])
    socket_a = WebsocketClient("127.0.0.1", port_a, f"/ws/live/?page={quote('/', safe='')}", cookie=cookie)
    try:
        socket_a.receive_text(60)  # the full refresh every page gets on connect
        flow_run, name = new_id(), f"across-{uuid.uuid4().hex[:8]}"
        events = [flow_run_created(flow_run, at(0), name=name),
                  state("flow_run", flow_run, 1, at(0.1), "RUNNING", run_count=1)]
        response = httpx.post(f"{base_b}/api/events/", json={"events": events},
                              headers={"Authorization": f"Bearer {key}"}, timeout=60)
        assert response.status_code == 200 and not response.json()["rejected"], response.text
        frame = socket_a.receive_until(lambda text: name in text, timeout=60)
    finally:
        socket_a.close()
    assert "<" in frame and "Running" in frame


def test_an_anonymous_websocket_on_a_real_server_is_refused(two_servers):
    (base_a, _), _, _, _ = two_servers
    from tests.reliability.websocket_client import HandshakeRefused

    with pytest.raises(HandshakeRefused):
        WebsocketClient("127.0.0.1", int(base_a.rsplit(":", 1)[1]), "/ws/live/?page=%2F").receive_text(30)


def test_delayed_runs_are_spread_over_both_task_workers(two_servers, tmp_path):
    bases, key, _, env = two_servers
    sdk_env = {k: v for k, v in env.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    sdk_env.update({"CELERY_BROKER_URL": env["REDIS_URL"], "ORCHESTRATOR_API_KEY": key, "PYTHONPATH": str(ROOT),
                    "ORCHESTRATOR_HEARTBEAT_SECONDS": "1"})
    workers = []
    try:
        for i, base in enumerate(bases):  # worker i reports to server i
            log_file = open(tmp_path / f"worker-{i}.log", "ab")
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "sdk", "serve", "tests.workers.served:which_worker", "--concurrency=1",
                 "--loglevel=INFO"], cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
                env={**sdk_env, "ORCHESTRATOR_API_URL": f"{base}/api", "ORCHESTRATOR_HOME": str(tmp_path / f"w{i}")}))
            log_file.close()
        pids = {proc.pid for proc in workers}
        with httpx.Client(base_url=bases[0], headers={"Authorization": f"Bearer {key}"}, timeout=30) as admin:
            def both_online() -> bool:
                assert all(proc.poll() is None for proc in workers), logs(tmp_path)
                return pids <= {w["pid"] for w in admin.get("/api/workers/").json()["results"]}

            wait_until(both_online, 120, 0.2, "both task workers to heartbeat")
        code = ("import json\nfrom tests.workers.served import which_worker\n"
                "futures = [which_worker.delay(i) for i in range(20)]\n"
                "print(json.dumps([f.result(timeout=180) for f in futures]))")
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                             env={**sdk_env, "ORCHESTRATOR_API_URL": f"{bases[0]}/api",
                                  "ORCHESTRATOR_HOME": str(tmp_path / "submitter")})
        assert out.returncode == 0, out.stderr[-2000:] + logs(tmp_path)
        ran_on = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        for proc in workers:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait(10)
    assert len(ran_on) == 20 and set(ran_on) == pids, (ran_on, pids)


def logs(tmp_path) -> str:
    return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(tmp_path.glob("worker-*.log")))
