"""Sending background runs to task workers over Celery, and calling them back.

The server never imports the workers' code: it sends a message named
`EXECUTE_RUN` with JSON arguments (the run's id, key and dispatch, and what the worker needs to
run it: name, parameters, attempt count, flow run, tags) to the queue of the run's key (orchestrator/queues.py);
a worker serving that key runs it. Cancelling revokes the message and broadcasts a
`cancel_run` control command, which a worker running it answers by stopping it.
"""
from __future__ import annotations

import logging
import uuid

from orchestrator.queues import queue_name

log = logging.getLogger(__name__)

EXECUTE_RUN = "orchestrator.execute_run"  # the task name SDK workers register
CANCEL_COMMAND = "cancel_run"  # the control command SDK workers register


class BrokerUnavailable(Exception):
    """The message could not be handed to the broker."""


def run_fields(name: str, parameters: dict, run_count: int, flow_run_id, tags: list) -> dict:
    """What a worker needs to run a run, carried by its message: its claim is then only a yes or no."""
    return {"name": name, "parameters": parameters, "run_count": run_count,
            "flow_run_id": str(flow_run_id) if flow_run_id else None, "tags": list(tags or [])}


def send_run(background_run, fields: dict) -> None:
    """Enqueue the current dispatch of a BackgroundRun (raises BrokerUnavailable)."""
    send_runs([(background_run, fields)])


RETRY_POLICY = {"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2, "interval_max": 0.5}


def send_runs(background_runs: list[tuple]) -> None:
    """Enqueue the current dispatch of each (BackgroundRun, run_fields) (raises BrokerUnavailable).

    Many runs leave in one batch where the transport can (Redis: one pipeline, not a round
    trip per message). A failed batch is sent again message by message: a message sent
    twice is harmless, since a dispatch is claimed once.
    """
    from orchestrator.celery import app

    if not background_runs:
        return
    try:
        with app.producer_or_acquire() as producer:
            if len(background_runs) == 1:
                _send(app, producer, background_runs[0])
                return
            try:
                with producer.batch():
                    for background_run in background_runs:
                        _send(app, producer, background_run)
                return
            except Exception as exc:
                log.warning("a batch of %d run messages failed (%s); sending them one by one",
                            len(background_runs), exc)
            for background_run in background_runs:
                _send(app, producer, background_run)
    except Exception as exc:
        raise BrokerUnavailable(f"the task queue (broker) is not reachable: {exc}") from exc


def _send(app, producer, message: tuple) -> None:
    background_run, fields = message
    app.send_task(
        EXECUTE_RUN,
        kwargs={
            "kind": background_run.kind,
            "run_id": str(background_run.run_id),
            "key": background_run.key,
            "dispatch": background_run.dispatch,
            "run": fields,
        },
        queue=queue_name(background_run.kind, background_run.key),
        task_id=background_run.message_id,
        producer=producer,
        # What Celery shows of the arguments (logs, events, inspect): said here, not built by its saferepr,
        # which cost a tenth of the request that creates a run.
        argsrepr="()",
        kwargsrepr=f"{{kind: {background_run.kind}, run_id: {background_run.run_id}, dispatch: {background_run.dispatch}}}",
        retry=True,
        retry_policy=RETRY_POLICY,
    )


def cancel_message(message_id: str, run_id: uuid.UUID) -> None:
    """Best effort: workers drop the queued message and stop the run if it is executing."""
    from orchestrator.celery import app

    try:
        if message_id:
            app.control.revoke(message_id)
        app.control.broadcast(CANCEL_COMMAND, arguments={"run_id": str(run_id)})
    except Exception as exc:  # the run is Cancelled on the server either way; its worker checks on claim
        log.warning("could not broadcast the cancellation of %s: %s", run_id, exc)
