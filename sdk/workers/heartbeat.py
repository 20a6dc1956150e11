"""The worker's heartbeat: a `worker.heartbeat` event when it starts and every INTERVAL seconds."""
from __future__ import annotations

import itertools
import os
import socket
import threading
import uuid
from datetime import datetime, timezone

from sdk.workers.engine_bridge import emit, flush
from sdk.workers.served import Served

DEFAULT_INTERVAL = 10.0


def interval_from_env() -> float:
    raw = os.environ.get("ORCHESTRATOR_HEARTBEAT_SECONDS", "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_INTERVAL
    except ValueError:
        value = DEFAULT_INTERVAL
    return value if value > 0 else DEFAULT_INTERVAL


class Heartbeat:
    def __init__(self, worker_name: str, served: Served, interval: float | None = None) -> None:
        self.worker_name = worker_name
        self.served = served
        self.interval = interval or interval_from_env()
        self._seq = itertools.count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sdk-worker-heartbeat", daemon=True)

    def beat(self) -> None:
        emit({
            "id": str(uuid.uuid4()),
            "type": "worker.heartbeat",
            "occurred": datetime.now(timezone.utc).isoformat(),
            "seq": next(self._seq),
            "worker_name": self.worker_name,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "task_keys": sorted(self.served.tasks),
            "flow_names": sorted(self.served.flows),
        })

    def start(self) -> None:
        self.beat()
        flush(timeout=10)  # the server knows the worker before it takes its first run
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def stop(self) -> None:
        self._stop.set()
