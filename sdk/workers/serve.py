"""`serve(*tasks_or_flows)`: run a task worker in this process until SIGTERM or Ctrl-C.

SIGTERM is Celery's warm shutdown: the worker stops taking runs, finishes the one it
is running, hands back the messages it had not started (late acknowledgement; the runs it
had claimed on their arrival are dispatched again by the server) and exits.
"""
from __future__ import annotations

import os
import socket
import sys
from typing import Any

from sdk.workers.api import api_client
from sdk.workers.engine_bridge import flush, get_sink, replay_spool, set_sink
from sdk.workers.gate import EventGate
from sdk.workers.heartbeat import Heartbeat
from sdk.workers.runner import Runner
from sdk.workers.served import Served


def serve(*tasks_or_flows: Any, concurrency: int = 1, name: str | None = None, loglevel: str = "WARNING") -> None:
    served = Served.of(tasks_or_flows)
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
    api_client()  # raises at once when ORCHESTRATOR_API_URL is not set
    # The worker ships a run's events as soon as they happen: someone is waiting for them.
    os.environ.setdefault("ORCHESTRATOR_SHIP_INTERVAL", "0.02")
    worker_name = name or f"{socket.gethostname()}:{os.getpid()}"

    from sdk.workers.app import broker_url, build_app

    gate = EventGate(get_sink())
    set_sink(gate)
    runner = Runner(served, worker_name, gate, threads=concurrency)
    app = build_app(runner)
    replay_spool()
    heartbeat = Heartbeat(worker_name, served)
    heartbeat.start()
    print(
        f"task worker {worker_name} serving tasks [{', '.join(sorted(served.tasks))}] "
        f"flows [{', '.join(sorted(served.flows))}] on {_shown(broker_url())}",
        file=sys.stderr, flush=True,
    )
    argv = [
        "worker", "--pool=threads", f"--concurrency={concurrency}", f"--queues={','.join(served.queues())}",
        f"--hostname=sdk-{os.getpid()}@{socket.gethostname()}", f"--loglevel={loglevel}",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    try:
        app.worker_main(argv)
    finally:
        runner.claims.release_unstarted()  # runs claimed on arrival and never started: any worker may take them
        heartbeat.stop()
        flush(timeout=5)
        set_sink(gate.inner)


def _shown(url: str) -> str:
    """The broker URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
