"""Live updates: tell the dashboard's websocket consumers which runs changed.

After a batch commits, one message goes to each channel group that shows what
changed (`runs`, `flow-run.<hex>`, `task-runs`, `task-run.<hex>`, `workers`),
at most one per group per batch, whatever the number of events behind it.

Cost is bounded by who is watching, not by the size of the batch: one pipelined
probe asks the channel layer which of the candidate groups have members, and
only those get a `group_send` (with channels-redis an empty group still costs
two Redis round trips per send; a batch touching 5,000 task runs would pay
10,000 of them for pages nobody has open). A page that joins a group after the
probe still catches up: it joins first and renders the whole page afterwards.

Publishing never raises into ingestion and does not hold up its response: with
channels-redis the sends happen on a thread of their own. A channel-layer error
is logged, and after one the layer is left alone for a few seconds.
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from django.db import transaction

from orchestrator.waiters import waiters

log = logging.getLogger(__name__)

RUNS_GROUP = "runs"
TASK_RUNS_GROUP = "task-runs"
WORKERS_GROUP = "workers"
# Every open task run page joins this group too, so a batch's task-run groups are probed only when
# some task run page is open anywhere (a probe of 1,000 groups costs a few ms; of this one, nothing).
TASK_RUN_PAGES_GROUP = "task-run-pages"
SEND_TIMEOUT = 2.0  # seconds a publish may take before it is abandoned (a hung Redis)
QUIET_AFTER_ERROR = 5.0  # seconds publishing is skipped after a channel-layer error
SEND_INTERVAL = 0.1  # seconds between two sends of one server process, at least (bounded publishing cost)
# After finding nobody waiting on task runs, finished runs wait for the regular send this long
# (steady ingestion then probes a few times a second, not once a batch).
NO_WAITERS_RECHECK = 0.05


NO_FLOW_RUN = ""  # in RunChanges.task_runs: a task run known to belong to no flow run (no lookup needed)


def flow_run_group(flow_run_id: str | uuid.UUID) -> str:
    """`flow-run.<uuid hex>`; takes a UUID or its canonical string."""
    return "flow-run." + str(flow_run_id).replace("-", "")


def task_run_group(task_run_id: str | uuid.UUID) -> str:
    return "task-run." + str(task_run_id).replace("-", "")


@dataclass
class RunChanges:
    """What one batch (or one retry, cancel, ...) changed; ids are canonical UUID strings."""

    flow_run_ids: set[str] = field(default_factory=set)
    # Each changed task run and its flow run (None where the change did not say; NO_FLOW_RUN: it has none).
    task_runs: dict[str, str | None] = field(default_factory=dict)
    logged_run_ids: set[str] = field(default_factory=set)  # flow and task runs with new log lines
    workers: bool = False
    # Task runs given a final state: their own groups hear of it at once, without SEND_INTERVAL,
    # because a `.delay()` future's long poll waits there.
    finished_task_run_ids: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.flow_run_ids or self.task_runs or self.workers)


class GroupMessages:
    """The groups a change concerns, and each one's message, built only for groups someone listens on."""

    def __init__(self, changes: RunChanges, sent_early: set[str] = frozenset()) -> None:
        self.changes = changes
        self.sent_early = sent_early  # task runs whose own groups already heard of these changes
        self.by_flow_run: dict[str, list[str]] = {f: [] for f in changes.flow_run_ids}
        for task_run_id, flow_run_id in changes.task_runs.items():
            if flow_run_id:  # neither unknown (None) nor NO_FLOW_RUN
                self.by_flow_run.setdefault(flow_run_id, []).append(task_run_id)
        self.flow_runs = {flow_run_group(f): f for f in self.by_flow_run}
        self.task_runs = {task_run_group(t): t for t in changes.task_runs}

    def groups(self, task_run_pages: bool = True) -> list[str]:
        """Every group concerned; with task_run_pages=False, all but the per-task-run ones."""
        # The runs list shows task counts, so a task run's change is its flow run's change too.
        groups = [RUNS_GROUP] if self.by_flow_run else []
        groups += self.flow_runs
        groups += [TASK_RUNS_GROUP] if self.task_runs else []
        groups += self.task_runs if task_run_pages else []
        return groups + [WORKERS_GROUP] if self.changes.workers else groups

    def own_groups(self) -> list[str]:
        """The per-task-run groups still to be told."""
        return [g for g, t in self.task_runs.items() if t not in self.sent_early]

    def message(self, group: str) -> dict:
        logged = self.changes.logged_run_ids
        if group in self.flow_runs:
            flow_run_id = self.flow_runs[group]
            task_run_ids = self.by_flow_run[flow_run_id]
            return {"type": "flow_run.changed", "flow_run_id": flow_run_id, "task_run_ids": sorted(task_run_ids),
                    "logs": flow_run_id in logged or any(t in logged for t in task_run_ids)}
        if group in self.task_runs:
            task_run_id = self.task_runs[group]
            return {"type": "task_run.changed", "task_run_id": task_run_id, "logs": task_run_id in logged}
        if group == RUNS_GROUP:
            return {"type": "runs.changed", "flow_run_ids": sorted(self.by_flow_run)}
        if group == TASK_RUNS_GROUP:
            return {"type": "task_runs.changed", "task_run_ids": sorted(self.changes.task_runs)}
        if group == WORKERS_GROUP:
            return {"type": "workers.changed"}
        raise KeyError(group)


def group_messages(changes: RunChanges) -> dict[str, dict]:
    """One message per group that shows something in `changes` (the channel-layer contract)."""
    messages = GroupMessages(changes)
    return {group: messages.message(group) for group in messages.groups()}


def publish_on_commit(
    *,
    flow_run_ids: Iterable[str | uuid.UUID] = (),
    task_runs: Mapping[str | uuid.UUID, str | uuid.UUID | None] | Iterable[str | uuid.UUID] = (),
    logged_run_ids: Iterable[str | uuid.UUID] = (),
    workers: bool = False,
    finished_task_run_ids: Iterable[str | uuid.UUID] = (),
) -> None:
    """Publish these changes once the current transaction commits (at once outside one).

    For domain code that changes runs (retries, cancel, housekeeping): pass the runs it
    touched; `task_runs` maps task run → flow run where known (a plain list works too);
    `finished_task_run_ids`: those among them now in a final state (their waiters wake at once).
    """
    if not isinstance(task_runs, Mapping):
        task_runs = dict.fromkeys(task_runs)
    changes = RunChanges(
        flow_run_ids={str(i) for i in flow_run_ids},
        task_runs={str(t): (str(f) if f is not None else None) for t, f in task_runs.items()},
        logged_run_ids={str(i) for i in logged_run_ids},
        workers=workers,
        finished_task_run_ids={str(i) for i in finished_task_run_ids},
    )
    changes.finished_task_run_ids &= set(changes.task_runs)
    if changes:
        transaction.on_commit(lambda: publish(changes))


def publish(changes: RunChanges) -> None:
    """Send `changes` to the groups that show them. Never raises.

    With channels-redis the sending happens on the publisher's own thread, so a batch's
    response does not wait for Redis round trips (changes queued meanwhile merge into one
    send). The in-memory layer belongs to the server's event loop: sent there, at once.
    """
    if changes.finished_task_run_ids:
        waiters.wake(changes.finished_task_run_ids)  # long polls of this process: at once, not via the layer
    if not changes or _publisher.quiet():
        return
    try:
        layer = _publisher.layer()
        if layer is None:  # CHANNEL_LAYERS = {}: live updates off
            return
        _fill_in_flow_runs(changes)
        if isinstance(getattr(layer, "groups", None), dict):  # channels.layers.InMemoryChannelLayer
            async_to_sync(_send_to_listened)(layer, GroupMessages(changes))
        else:
            _publisher.submit(layer, changes)
    except Exception as exc:  # live updates are best effort; ingestion must not notice
        _publisher.failed(exc)


def _fill_in_flow_runs(changes: RunChanges) -> None:
    """Look up the flow run of task runs whose change did not name it (rare: one query)."""
    unknown = [t for t, f in changes.task_runs.items() if f is None]
    if not unknown:
        return
    from orchestrator.models import TaskRun

    for task_run_id, flow_run_id in TaskRun.objects.filter(id__in=unknown).values_list("id", "flow_run_id"):
        if flow_run_id is not None:
            changes.task_runs[str(task_run_id)] = str(flow_run_id)


async def _send_to_listened(layer, messages: GroupMessages) -> None:
    async def send_all() -> None:
        probe = messages.groups(task_run_pages=False)
        own = messages.own_groups()
        if own:
            probe.append(TASK_RUN_PAGES_GROUP)
        groups = await listened_groups(layer, probe)
        if TASK_RUN_PAGES_GROUP in groups:
            groups.remove(TASK_RUN_PAGES_GROUP)
            groups += await listened_groups(layer, own)
        await asyncio.gather(*(layer.group_send(g, messages.message(g)) for g in groups))

    await asyncio.wait_for(send_all(), SEND_TIMEOUT)


async def _send_to_finished(layer, finished: set[str], logged: set[str]) -> bool:
    """Tell the listened groups of task runs that just finished (their long polls and pages);
    False when no task run page or long poll is open anywhere."""
    async def send_all() -> bool:
        if not await listened_groups(layer, [TASK_RUN_PAGES_GROUP]):
            return False
        by_group = {task_run_group(t): t for t in finished}
        groups = await listened_groups(layer, list(by_group))
        await asyncio.gather(*(layer.group_send(g, {"type": "task_run.changed", "task_run_id": by_group[g],
                                                    "logs": by_group[g] in logged}) for g in groups))
        return True

    return await asyncio.wait_for(send_all(), SEND_TIMEOUT)


# Which of KEYS exist (channels-redis deletes a group's key with its last member): 1-based positions.
EXISTING_KEYS_LUA = """
local found = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then found[#found + 1] = i end
end
return found
"""


def _redis_shards(layer, groups: list[str]) -> dict[int, list[str]] | None:
    """Groups by channels-redis shard, or None for a layer we cannot address directly."""
    if not all(hasattr(layer, a) for a in ("_group_key", "consistent_hash", "connection", "group_expiry")):
        return None
    by_shard: dict[int, list[str]] = {}
    for g in groups:
        by_shard.setdefault(layer.consistent_hash(g), []).append(g)
    return by_shard


async def listened_groups(layer, groups: list[str]) -> list[str]:
    """The groups that have at least one member: one script call per Redis shard, whatever their number
    (a pipeline of one EXISTS per group costs ~50 µs of Python per group; the script, a few µs).

    Layers we do not know how to probe get every group (correct, only slower).
    """
    if not groups:
        return []
    members = getattr(layer, "groups", None)
    if isinstance(members, dict):  # channels.layers.InMemoryChannelLayer
        return [g for g in groups if members.get(g)]
    by_shard = _redis_shards(layer, groups)
    if by_shard is None:
        return groups
    found: list[str] = []
    for shard, names in by_shard.items():
        connection = layer.connection(shard)
        positions = await connection.eval(EXISTING_KEYS_LUA, len(names), *(layer._group_key(g) for g in names))
        found.extend(names[i - 1] for i in positions)
    return found


async def join(layer, groups: list[str], channel: str) -> None:
    """`group_add` of `channel` to each group: with channels-redis one pipelined round trip per shard
    (its group_add makes two per group, one after the other: four for a long poll before it may wait)."""
    by_shard = _redis_shards(layer, groups)
    if by_shard is None:
        await asyncio.gather(*(layer.group_add(g, channel) for g in groups))
        return
    now = time.time()
    for shard, names in by_shard.items():
        async with layer.connection(shard).pipeline(transaction=False) as pipe:
            for g in names:
                key = layer._group_key(g)
                pipe.zadd(key, {channel: now})
                pipe.expire(key, layer.group_expiry)
            await pipe.execute()


async def leave(layer, groups: list[str], channel: str) -> None:
    """`group_discard` of `channel` from each group, pipelined likewise."""
    by_shard = _redis_shards(layer, groups)
    if by_shard is None:
        await asyncio.gather(*(layer.group_discard(g, channel) for g in groups))
        return
    for shard, names in by_shard.items():
        async with layer.connection(shard).pipeline(transaction=False) as pipe:
            for g in names:
                pipe.zrem(layer._group_key(g), channel)
            await pipe.execute()


class Publisher:
    """A thread with its own event loop that sends queued changes, merged; and a pause after
    an error, so a dead channel layer costs one failure per pause, not one per batch."""

    def __init__(self) -> None:
        self.quiet_until = 0.0
        self.lock = threading.Condition()
        self.sending = False
        self.queued: RunChanges | None = None
        self.queued_layer = None
        self.finished: set[str] = set()  # task runs whose own groups are told at once
        self.sent_early: set[str] = set()  # task runs whose own groups heard of the queued changes already
        self.no_waiters_until = 0.0
        self.thread: threading.Thread | None = None
        self.pid = 0

    def quiet(self) -> bool:
        return time.monotonic() < self.quiet_until

    def failed(self, exc: BaseException) -> None:
        self.quiet_until = time.monotonic() + QUIET_AFTER_ERROR
        log.warning("live updates: publishing failed, pausing for %.0fs: %r", QUIET_AFTER_ERROR, exc)

    @staticmethod
    def layer():
        from channels.layers import get_channel_layer

        return get_channel_layer()

    def submit(self, layer, changes: RunChanges) -> None:
        with self.lock:
            if self.queued is None:
                self.queued = changes
            else:
                merge(self.queued, changes)
            self.sent_early -= changes.task_runs.keys()  # changed again: their groups hear of it again
            self.finished |= changes.finished_task_run_ids
            self.queued_layer = layer
            if self.thread is None or self.pid != os.getpid():  # none yet, or forked after it started
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self.run, name="live-updates", daemon=True)
                self.thread.start()
            self.lock.notify_all()

    def _next(self, last_send: float):
        """Under the lock: wait for the next send and take it (a coroutine to run)."""
        while True:
            due = self.queued is not None and time.monotonic() >= last_send + SEND_INTERVAL
            if self.finished and not due and time.monotonic() < self.no_waiters_until:
                self.finished = set()  # nobody waits: the regular send tells their groups
            if self.finished and not due:  # (when due, the regular send tells their groups too)
                finished, self.finished = self.finished, set()
                self.sent_early |= finished
                logged = self.queued.logged_run_ids if self.queued is not None else set()
                return False, _send_to_finished(self.queued_layer, finished, set(logged))
            if self.queued is not None:
                # Under steady ingestion, batches arriving within an interval leave in one send.
                left = last_send + SEND_INTERVAL - time.monotonic()
                if left <= 0:
                    changes, self.queued, self.finished = self.queued, None, set()
                    sent_early, self.sent_early = self.sent_early, set()
                    return True, _send_to_listened(self.queued_layer, GroupMessages(changes, sent_early))
                self.lock.wait(left)
            else:
                self.lock.wait()

    def run(self) -> None:
        loop = asyncio.new_event_loop()
        last_send = 0.0
        while True:
            with self.lock:
                regular, sending = self._next(last_send)
                self.sending = True
            if regular:
                last_send = time.monotonic()
            try:
                if self.quiet():
                    sending.close()
                elif loop.run_until_complete(sending) is False:
                    self.no_waiters_until = time.monotonic() + NO_WAITERS_RECHECK
            except BaseException as exc:  # keep the thread alive for the next change
                self.failed(exc)
            finally:
                with self.lock:
                    self.sending = False
                    self.lock.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted so far was sent (or failed); False on timeout."""
        with self.lock:
            return self.lock.wait_for(lambda: self.queued is None and not self.finished and not self.sending, timeout)


def flush(timeout: float = 5.0) -> bool:
    """Wait until the changes published so far have left for the channel layer (tests, benchmarks)."""
    return _publisher.flush(timeout)


def merge(into: RunChanges, changes: RunChanges) -> None:
    into.flow_run_ids |= changes.flow_run_ids
    for task_run_id, flow_run_id in changes.task_runs.items():
        if flow_run_id is not None or task_run_id not in into.task_runs:
            into.task_runs[task_run_id] = flow_run_id
    into.logged_run_ids |= changes.logged_run_ids
    into.workers |= changes.workers
    into.finished_task_run_ids |= changes.finished_task_run_ids


_publisher = Publisher()
