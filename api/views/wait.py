"""GET /api/task-runs/{id}/wait/?timeout=30: a long poll that answers once the run is final.

What `.delay()` futures wait on instead of polling. The view listens on the run's
Channels group (`task-run.<hex>`, where each ingested batch that touches the run is
announced once it commits) and reads the run again on each message; it also looks
every BACKSTOP seconds, so a lost message costs latency, never a hang. `timeout`
is capped at MAX_TIMEOUT; the answer says `final: false` when it passed first.
"""
from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.http import JsonResponse
from rest_framework.request import Request

from api.auth import APIKeyAuthentication, APIKeyPrincipal
from orchestrator.models import FINAL_STATE_TYPES, StateType, TaskRun, TaskRunState

MAX_TIMEOUT = 60.0
BACKSTOP = 1.0


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message, "detail": message}, status=status)


def _authorised(request) -> JsonResponse | None:
    """None when the request may read runs (a read/admin API key or a signed-in user)."""
    try:
        found = APIKeyAuthentication().authenticate(Request(request))
    except Exception as exc:  # AuthenticationFailed: a bad or revoked key
        return _error(str(getattr(exc, "detail", exc)), 401)
    if found is not None:
        principal: APIKeyPrincipal = found[0]
        if not (principal.key.allows("read") or principal.key.allows("ingest")):
            return _error("This API key's scope does not allow this request.", 403)
        return None
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        return None
    return _error("Authentication credentials were not provided.", 401)


def outcome(run_id: uuid.UUID) -> dict | None:
    """The run's current state, and its result or error once final; None if there is no such run."""
    run = TaskRun.objects.filter(pk=run_id).first()
    if run is None:
        return None
    final = run.state_type in FINAL_STATE_TYPES
    answer = {
        "id": str(run.pk),
        "final": final,
        "run_count": run.run_count,
        "state": {"type": run.state_type, "name": run.state_name, "message": run.state_message,
                  "timestamp": run.state_timestamp.isoformat() if run.state_timestamp else None} if run.state_type else None,
    }
    if final:
        latest = TaskRunState.objects.filter(task_run_id=run.pk, type=run.state_type).order_by("-timestamp", "-seq").first()
        if run.state_type == StateType.COMPLETED:
            answer["result"] = latest.result if latest else None
        elif latest is not None and latest.error:
            answer["error"] = latest.error
    return answer


async def wait_for_task_run(request, pk: str) -> JsonResponse:
    if request.method != "GET":
        return _error("use GET", 405)
    refusal = await sync_to_async(_authorised)(request)
    if refusal is not None:
        return refusal
    try:
        run_id = uuid.UUID(pk)
    except ValueError:
        return _error(f"no task run with id {pk[:100]!r} (ids are UUIDs)", 404)
    raw = request.GET.get("timeout", "30")
    try:
        timeout = float(raw)
        if not 0 <= timeout < float("inf"):
            raise ValueError(raw)
    except ValueError:
        return _error(f"invalid query parameter timeout: {raw[:40]!r} is not a number of seconds (0-{MAX_TIMEOUT:g})", 400)
    timeout = min(timeout, MAX_TIMEOUT)

    layer = get_channel_layer()
    channel = await layer.new_channel() if layer is not None else None
    group = f"task-run.{run_id.hex}"
    if channel is not None:
        await layer.group_add(group, channel)  # before the first read: no change can slip between
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            answer = await sync_to_async(outcome)(run_id)
            if answer is None:
                return _error(f"no task run with id {pk!r}", 404)
            remaining = deadline - loop.time()
            if answer["final"] or remaining <= 0:
                return JsonResponse(answer)
            try:
                if channel is None:
                    await asyncio.sleep(min(remaining, BACKSTOP))
                else:
                    await asyncio.wait_for(layer.receive(channel), timeout=min(remaining, BACKSTOP))
            except asyncio.TimeoutError:
                pass
    finally:
        if channel is not None:
            await layer.group_discard(group, channel)
