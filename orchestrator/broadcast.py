"""Live-update messages to Channels groups (CONTRACTS §2).

# stub: replaced by dashlive's implementation at merge
This stand-in sends the per-run messages (`flow-run.<hex>`, `task-run.<hex>`) that the
long-poll wait endpoint listens to, so `.delay()` futures wake at once on this branch too.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

log = logging.getLogger(__name__)


def publish_changes(flow_run_ids: Iterable = (), task_run_ids: Iterable = (), logs: bool = False,
                    workers: bool = False) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    messages = []
    for run_id in flow_run_ids:
        run_id = uuid.UUID(str(run_id))
        messages.append((f"flow-run.{run_id.hex}", {"type": "flow_run.changed", "flow_run_id": str(run_id),
                                                    "task_run_ids": [], "logs": logs}))
    for run_id in task_run_ids:
        run_id = uuid.UUID(str(run_id))
        messages.append((f"task-run.{run_id.hex}", {"type": "task_run.changed", "task_run_id": str(run_id), "logs": logs}))
    if not messages:
        return

    async def send_all() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    try:
        async_to_sync(send_all)()
    except Exception as exc:  # live updates are best effort: a stored batch stays stored
        log.warning("could not publish run changes: %s", exc)
