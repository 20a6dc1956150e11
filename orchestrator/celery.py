"""Celery app: `celery -A orchestrator worker -B`. Broker: CELERY_BROKER_URL, else REDIS_URL, else embedded.

Background runs go to SDK task workers on per-key queues (orchestrator/dispatch.py);
this app's own worker only runs housekeeping and retention (settings.CELERY_BEAT_SCHEDULE).
"""
import os

from celery import Celery
from celery.signals import worker_init

from orchestrator.config import orchestrator_home

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")

app = Celery("orchestrator")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule_filename = str(orchestrator_home() / "celerybeat-schedule")
app.autodiscover_tasks()


@worker_init.connect
def close_database_before_fork(**_kwargs) -> None:
    """The parent must hold no database connection or pool when it forks its pool processes:
    a child would share the parent's sockets (and a pool's threads do not survive a fork)."""
    _close_database_connections()


def _close_database_connections() -> None:
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
        close_pool = getattr(conn, "close_pool", None)
        if close_pool is not None:
            close_pool()
