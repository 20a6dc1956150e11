"""The floor for bench/delay.py: a raw Celery no-op task on the same Redis, with a Redis result backend.

    celery -A bench.celery_floor worker -P threads -c 1 -Q <queue>
"""
from __future__ import annotations

import os

from celery import Celery

BROKER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

app = Celery("bench_floor", broker=BROKER, backend=BROKER)
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                worker_prefetch_multiplier=1, task_acks_late=True, broker_connection_retry_on_startup=True,
                worker_hijack_root_logger=False)


@app.task(name="bench.noop")
def noop() -> None:
    return None
