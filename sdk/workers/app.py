"""The worker's Celery app, configured from the same environment as the server's (SPEC §5):
`CELERY_BROKER_URL`, else `REDIS_URL`, else Kombu's filesystem transport under
`$ORCHESTRATOR_HOME/broker`. JSON only, never pickle; late acknowledgement."""
from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from celery.signals import task_received
from celery.worker.control import control_command

from sdk.workers.runner import Runner

EXECUTE_RUN = "orchestrator.execute_run"  # the name the server sends (orchestrator/dispatch.py)
_runner: Runner | None = None


def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "filesystem://"


def broker_options(url: str) -> dict:
    if not url.startswith("filesystem://"):
        return {}
    home = Path(os.environ.get("ORCHESTRATOR_HOME") or Path.home() / ".orchestrator")
    folder = home / "broker"
    for sub in ("in", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "in"),
        "data_folder_out": str(folder / "in"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }


def prefetch_multiplier() -> int:
    raw = os.environ.get("ORCHESTRATOR_WORKER_PREFETCH", "4")
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"ORCHESTRATOR_WORKER_PREFETCH must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"ORCHESTRATOR_WORKER_PREFETCH must be a positive integer, got {raw!r}")
    return value


def build_app(runner: Runner) -> Celery:
    global _runner
    _runner = runner
    url = broker_url()
    app = Celery("sdk-worker", set_as_current=False)
    app.conf.update(
        broker_url=url,
        broker_transport_options=broker_options(url),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a run whose worker dies mid-run is redelivered
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        # Messages reserved per thread, as Celery's own default: those waiting are claimed on arrival,
        # together (sdk/workers/claims.py). 1 suits long runs on several workers (none waits behind
        # another run while a worker idles): ORCHESTRATOR_WORKER_PREFETCH=1.
        worker_prefetch_multiplier=prefetch_multiplier(),
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        task_create_missing_queues=True,
    )

    @task_received.connect(weak=False)
    def claim_on_arrival(sender=None, request=None, **_) -> None:
        """A run message arrived (it may wait behind others): claim it now, with the others arriving."""
        if request is None or request.name != EXECUTE_RUN or sender is None or sender.app is not app:
            return
        try:
            kwargs = request.kwargs
            if isinstance(kwargs.get("run"), dict):  # a message without the run's fields is claimed the old way
                runner.claims.ahead(str(kwargs["kind"]), str(kwargs["run_id"]), int(kwargs["dispatch"]))
        except Exception:  # a malformed message: its execution says what is wrong
            pass

    @app.task(name=EXECUTE_RUN, ignore_result=True)
    def execute_run(kind: str, run_id: str, key: str, dispatch: int, run: dict | None = None) -> str:
        return runner.execute(kind, run_id, key, int(dispatch), run)

    return app


@control_command(args=[("run_id", str)], signature="<run_id>")
def cancel_run(state, run_id: str) -> dict:
    """Broadcast by the server when it cancels a run."""
    if _runner is None:
        return {"ok": "no runner"}
    return {"ok": "interrupted" if _runner.cancel(run_id) else "not running here"}
