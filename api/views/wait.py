"""GET /api/task-runs/{id}/wait/?timeout=30: a long poll that answers once the run is final.

POST /api/task-runs/wait/ {"ids": [id, ...], "timeout": 30}: the same for the first id, and the
answer also carries every other listed run that is final by then (`{"runs": [answer, ...]}`):
a process waiting on many `.delay()` futures learns of them in a few requests, not one each.

What `.delay()` futures wait on instead of polling. The view listens on the run's
Channels group (`task-run.<hex>`, where each ingested batch that touches the run is
announced once it commits) and reads the run again on each message; it also looks
every BACKSTOP seconds, so a lost message costs latency, never a hang. `timeout`
is capped at MAX_TIMEOUT; the answer says `final: false` when it passed first.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timezone as dt_timezone

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone as dj_timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from rest_framework.request import Request

from api.auth import APIKeyAuthentication, APIKeyPrincipal
from orchestrator import broadcast
from orchestrator.waiters import waiters
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


RUN_COLUMNS = ("pk", "state_type", "state_name", "state_message", "state_timestamp", "run_count")


def outcomes(run_ids: list[uuid.UUID], final_only: bool = False) -> dict[uuid.UUID, dict]:
    """Each known run's current state (`final_only`: of those that are final), and its result or error
    once final (two queries in all; plain rows, no model instances: a long poll may read a thousand)."""
    runs = TaskRun.objects.filter(pk__in=run_ids)
    if final_only:
        runs = runs.filter(state_type__in=FINAL_STATE_TYPES)
    rows = list(runs.values_list(*RUN_COLUMNS))
    final_ids = [row[0] for row in rows if row[1] in FINAL_STATE_TYPES]
    latest: dict[uuid.UUID, list] = {}  # each final run's latest final state: type, result, error
    if final_ids:
        final_states = (TaskRunState.objects.filter(task_run_id__in=final_ids, type__in=FINAL_STATE_TYPES)
                        .order_by("task_run_id", "-timestamp", "-seq").values_list("task_run_id", "type", "result", "error"))
        for run_id, *state in final_states:
            latest.setdefault(run_id, state)
    return {row[0]: _answer(*row, latest.get(row[0])) for row in rows}


def _answer(run_id, state_type: str, state_name: str, state_message: str, state_timestamp, run_count: int,
            final_state) -> dict:
    """A run's answer from its row and, once final, its latest final state (type, result, error: decoded)."""
    final = state_type in FINAL_STATE_TYPES
    answer = {
        "id": str(run_id),
        "final": final,
        "run_count": run_count,
        "state": {"type": state_type, "name": state_name, "message": state_message,
                  "timestamp": state_timestamp.isoformat() if state_timestamp else None} if state_type else None,
    }
    state = final_state if final else None
    if final and state_type == StateType.COMPLETED:
        answer["result"] = state[1] if state is not None and state[0] == StateType.COMPLETED else None
    elif state is not None and state[2]:
        answer["error"] = state[2]
    return answer


def outcome(run_id: uuid.UUID) -> dict | None:
    """The same answer as `outcomes([run_id])`, for the one run a long poll waits on: its statements are
    written once per process (the ORM built both anew for every read, most of a read's cost)."""
    sql = _one_run_statements()
    with connection.cursor() as cursor:
        cursor.execute(sql[0], [TaskRun._meta.pk.get_db_prep_value(run_id, connection)])
        row = cursor.fetchone()
        if row is None:
            return None
        state_type, state_name, state_message, state_timestamp, run_count = row
        final = state_type in FINAL_STATE_TYPES
        state = None
        if final:
            cursor.execute(sql[1], [TaskRunState._meta.get_field("task_run").get_db_prep_value(run_id, connection),
                                    *sorted(FINAL_STATE_TYPES)])
            state = cursor.fetchone()
    if isinstance(state_timestamp, str):  # SQLite without its converter: text
        state_timestamp = parse_datetime(state_timestamp)
    if state_timestamp is not None and dj_timezone.is_naive(state_timestamp):  # SQLite keeps UTC, naive
        state_timestamp = dj_timezone.make_aware(state_timestamp, dt_timezone.utc)
    if state is not None:
        state = (state[0], _json_value(state[1]), _json_value(state[2]))
    return _answer(run_id, state_type, state_name, state_message, state_timestamp, run_count, state)


_JSON_FIELD = TaskRunState._meta.get_field("result")
_ONE_RUN_SQL: dict[str, tuple[str, str]] = {}


def _json_value(value):
    return _JSON_FIELD.from_db_value(value, None, connection)


def _one_run_statements() -> tuple[str, str]:
    sql = _ONE_RUN_SQL.get(connection.vendor)
    if sql is None:
        q = connection.ops.quote_name
        run = TaskRun._meta.get_field
        state = TaskRunState._meta.get_field
        finals = ", ".join(["%s"] * len(FINAL_STATE_TYPES))
        columns = ", ".join(q(run(c).column) for c in ("state_type", "state_name", "state_message", "state_timestamp", "run_count"))
        sql = _ONE_RUN_SQL[connection.vendor] = (
            f"SELECT {columns} FROM {q(TaskRun._meta.db_table)} WHERE {q(TaskRun._meta.pk.column)} = %s",
            f"SELECT {q(state('type').column)}, {q(state('result').column)}, {q(state('error').column)} "
            f"FROM {q(TaskRunState._meta.db_table)} WHERE {q(state('task_run').column)} = %s "
            f"AND {q(state('type').column)} IN ({finals}) "
            f"ORDER BY {q(state('timestamp').column)} DESC, {q(state('seq').column)} DESC LIMIT 1",
        )
    return sql


async def _wait(primary: uuid.UUID, others: list[uuid.UUID], timeout: float) -> dict[uuid.UUID, dict] | None:
    """Read the runs until the primary one is final or `timeout` passed; None if it does not exist."""
    layer = get_channel_layer()
    channel = await layer.new_channel() if layer is not None else None
    # The run's group, and the marker group that makes ingestion publish to task-run groups at all.
    groups = [broadcast.task_run_group(primary), broadcast.TASK_RUN_PAGES_GROUP]
    if channel is not None:
        await broadcast.join(layer, groups, channel)  # before the first read: no change can slip between
    # This process's ingestion wakes the poll directly (orchestrator/waiters.py); others, through the layer.
    woken = asyncio.Event()
    waiters.add(str(primary), woken)
    receiving: asyncio.Future | None = None
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            woken.clear()  # before the read: a change committed during it wakes the next wait
            # Only the primary run decides when to answer: the others are read once, for the answer.
            answer = await sync_to_async(outcome)(primary)
            if answer is None:
                return None
            answers = {primary: answer}
            remaining = deadline - loop.time()
            if answers[primary]["final"] or remaining <= 0:
                if others:
                    answers.update(await sync_to_async(outcomes)(others, final_only=True))
                return answers
            wakers = [asyncio.ensure_future(woken.wait())]
            if channel is not None:
                if receiving is None:
                    receiving = asyncio.ensure_future(layer.receive(channel))
                wakers.append(receiving)
            done, _ = await asyncio.wait(wakers, timeout=min(remaining, BACKSTOP), return_when=asyncio.FIRST_COMPLETED)
            wakers[0].cancel()
            if receiving is not None and receiving in done:
                receiving.exception()  # a failed receive only costs latency: the next read looks anyway
                receiving = None
    finally:
        waiters.discard(str(primary), woken)
        if receiving is not None:
            receiving.cancel()
        if channel is not None:
            # Left after the answer is on its way (nothing is sent to the group that matters any more).
            _leaving.add(task := asyncio.ensure_future(_leave(layer, groups, channel)))
            task.add_done_callback(_leaving.discard)


_leaving: set[asyncio.Future] = set()  # the leave tasks under way (a task nobody holds may be collected)


async def _leave(layer, groups: list[str], channel: str) -> None:
    try:
        await broadcast.leave(layer, groups, channel)
    except Exception:  # the membership expires with the group (channels' group_expiry)
        pass


def _timeout(raw) -> float:
    timeout = float(raw)
    if not 0 <= timeout < float("inf"):
        raise ValueError(raw)
    return min(timeout, MAX_TIMEOUT)


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
        timeout = _timeout(raw)
    except ValueError:
        return _error(f"invalid query parameter timeout: {raw[:40]!r} is not a number of seconds (0-{MAX_TIMEOUT:g})", 400)
    answers = await _wait(run_id, [], timeout)
    if answers is None:
        return _error(f"no task run with id {pk!r}", 404)
    return JsonResponse(answers[run_id])


MAX_WAIT_IDS = 1000


class BadWait(ValueError):
    """The body of a POST /api/task-runs/wait/ is not what it must be (answered 400 with the message)."""


def wait_request(body: bytes) -> tuple[list[uuid.UUID], float]:
    """(ids, the first one waited for; timeout) from a POST body, or BadWait."""
    try:
        data = json.loads(body or b"{}")
        raw_ids = data["ids"]
        if not isinstance(raw_ids, list) or not 1 <= len(raw_ids) <= MAX_WAIT_IDS:
            raise ValueError(f"ids must be a list of 1 to {MAX_WAIT_IDS} task run ids")
        ids = list(dict.fromkeys(uuid.UUID(str(i)) for i in raw_ids))
        timeout = _timeout(data.get("timeout", 30))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        message = str(exc) if isinstance(exc, ValueError) and "ids must" in str(exc) else (
            'body must be {"ids": [task run ids, the first one waited for], "timeout": seconds (0-60)}')
        raise BadWait(message) from None
    return ids, timeout


async def wait_answer(ids: list[uuid.UUID], timeout: float) -> JsonResponse:
    """The long poll itself, once the request is known to be allowed and well-formed."""
    answers = await _wait(ids[0], ids[1:], timeout)
    if answers is None:
        return _error(f"no task run with id {ids[0]}", 404)
    shown = [answers[ids[0]], *(a for i, a in answers.items() if i != ids[0] and a["final"])]
    return JsonResponse({"runs": shown})


@csrf_exempt  # reads only; API keys carry no CSRF token
async def wait_for_task_runs(request) -> JsonResponse:
    if request.method != "POST":
        return _error("use POST with {\"ids\": [...], \"timeout\": seconds}", 405)
    refusal = await sync_to_async(_authorised)(request)
    if refusal is not None:
        return refusal
    try:
        ids, timeout = wait_request(request.body)
    except BadWait as exc:
        return _error(str(exc), 400)
    return await wait_answer(ids, timeout)
