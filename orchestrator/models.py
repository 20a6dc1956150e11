"""The domain: what the SDK reported, as the server stores it.

Rows are keyed by the SDK's own ids, so ingestion is an upsert and replaying a
batch changes nothing. Links between runs (task run → flow run, parent,
upstream) may point at rows whose events have not arrived yet, so they carry no
database-level constraint: the events converge, the rows follow.
"""
from __future__ import annotations

from django.db import models

from orchestrator.querysets import (  # noqa: F401  (empty_state_counts, WORKER_RECENT: re-exported)
    WORKER_RECENT,
    FlowRunQuerySet,
    LogQuerySet,
    TaskRunQuerySet,
    WorkerQuerySet,
    empty_state_counts,
)

from orchestrator.stored_json import StoredJSONField


class StateType(models.TextChoices):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CRASHED = "CRASHED"
    CANCELLED = "CANCELLED"
    CANCELLING = "CANCELLING"
    PAUSED = "PAUSED"


FINAL_STATE_TYPES = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})
STATE_NAMES = (
    "Scheduled", "Late", "AwaitingRetry", "Pending", "NotReady", "Running", "Retrying",
    "Completed", "Cached", "Failed", "TimedOut", "Crashed", "Cancelled", "Cancelling", "Paused",
)


class Flow(models.Model):
    name = models.CharField(max_length=255, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Run(models.Model):
    """What flow runs and task runs share: identity, current state, timing."""

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=255, blank=True, default="")
    parameters = StoredJSONField(default=dict, blank=True)
    tags = StoredJSONField(default=list, blank=True)
    run_count = models.PositiveIntegerField(default=0)
    # Current state = the state with the greatest (state_timestamp, state_seq).
    state_type = models.CharField(max_length=16, choices=StateType.choices, blank=True, default="")
    state_name = models.CharField(max_length=32, blank=True, default="")
    state_message = models.TextField(blank=True, default="")
    state_timestamp = models.DateTimeField(null=True, blank=True)
    state_seq = models.BigIntegerField(null=True, blank=True)
    start_time = models.DateTimeField(null=True, blank=True, help_text="occurred of the first RUNNING state")
    end_time = models.DateTimeField(null=True, blank=True, help_text="occurred of the current state when final")
    # The created event's `occurred`; until it arrives, the earliest `occurred` seen for the run.
    created = models.DateTimeField()
    has_created_event = models.BooleanField(default=False)
    parent_task_run_id = models.UUIDField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)
    # Name of the API key (or "session:<username>") whose batch stored this row: finds a leaked key's data.
    stored_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        abstract = True

    @property
    def duration(self):
        if self.start_time and self.end_time:
            return self.end_time - self.start_time
        return None

    @property
    def is_final(self) -> bool:
        return self.state_type in FINAL_STATE_TYPES


class FlowRun(Run):
    # db_index=False here and on the links below: a composite index (see Meta) starts with the column already.
    flow = models.ForeignKey(Flow, null=True, blank=True, on_delete=models.PROTECT, related_name="runs", db_index=False)
    parent_flow_run_id = models.UUIDField(null=True, blank=True)
    version = models.CharField(max_length=255, blank=True, default="")

    objects = FlowRunQuerySet.as_manager()

    class Meta:
        permissions = [("retry_run", "Can retry flow runs and task runs")]
        indexes = [
            models.Index(fields=["-created", "-id"], name="flowrun_newest"),
            models.Index(fields=["state_type", "-created"], name="flowrun_state_newest"),
            models.Index(fields=["state_name", "-created"], name="flowrun_statename_newest"),
            models.Index(fields=["flow", "-created"], name="flowrun_flow_newest"),
            models.Index(fields=["start_time"], name="flowrun_start"),
            # A flow run page lists its child flow runs; only child runs carry a parent.
            models.Index(fields=["parent_flow_run_id", "created"], name="flowrun_children",
                         condition=models.Q(parent_flow_run_id__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.id}"


class TaskRun(Run):
    flow_run = models.ForeignKey(
        FlowRun, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="task_runs",
        db_index=False,
    )
    task_key = models.CharField(max_length=255, blank=True, default="")
    task_name = models.CharField(max_length=255, blank=True, default="")
    upstream_task_run_ids = StoredJSONField(default=list, blank=True)

    objects = TaskRunQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["-created", "-id"], name="taskrun_newest"),
            models.Index(fields=["state_type", "-created"], name="taskrun_state_newest"),
            models.Index(fields=["state_name", "-created"], name="taskrun_statename_newest"),
            models.Index(fields=["flow_run", "created"], name="taskrun_flowrun_created"),
            models.Index(fields=["task_key", "-created"], name="taskrun_key_newest"),
            models.Index(fields=["task_name", "-created"], name="taskrun_name_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.id}"


class RunTag(models.Model):
    """One row per (run, tag), so tag filters use an index on every database."""

    tag = models.CharField(max_length=255)
    flow_run = models.ForeignKey(
        FlowRun, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="tag_rows"
    )
    task_run = models.ForeignKey(
        TaskRun, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="tag_rows"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tag", "flow_run"], name="runtag_flowrun_unique"),
            models.UniqueConstraint(fields=["tag", "task_run"], name="runtag_taskrun_unique"),
        ]


class StateRecord(models.Model):
    """One entry of a run's state timeline. `id` is the event id (idempotency)."""

    id = models.UUIDField(primary_key=True)
    type = models.CharField(max_length=16, choices=StateType.choices)
    name = models.CharField(max_length=32)
    message = models.TextField(blank=True, default="")
    timestamp = models.DateTimeField()
    seq = models.BigIntegerField(default=0)
    run_count = models.PositiveIntegerField(default=0)
    error = StoredJSONField(null=True, blank=True, help_text='{"type", "message", "traceback"} of a failure')
    result = StoredJSONField(null=True, blank=True)
    # Name of the API key (or "session:<username>") whose batch stored this row: finds a leaked key's data.
    stored_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        abstract = True


class FlowRunState(StateRecord):
    flow_run = models.ForeignKey(
        FlowRun, on_delete=models.DO_NOTHING, db_constraint=False, related_name="states", db_index=False
    )

    class Meta:
        indexes = [models.Index(fields=["flow_run", "timestamp", "seq"], name="flowrunstate_timeline")]


class TaskRunState(StateRecord):
    task_run = models.ForeignKey(
        TaskRun, on_delete=models.DO_NOTHING, db_constraint=False, related_name="states", db_index=False
    )

    class Meta:
        indexes = [models.Index(fields=["task_run", "timestamp", "seq"], name="taskrunstate_timeline")]


class Log(models.Model):
    id = models.UUIDField(primary_key=True)  # the event id
    flow_run = models.ForeignKey(
        FlowRun, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="logs",
        db_index=False,
    )
    task_run = models.ForeignKey(
        TaskRun, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="logs",
        db_index=False,
    )
    level = models.PositiveSmallIntegerField()
    logger = models.CharField(max_length=255, blank=True, default="")
    message = models.TextField()
    timestamp = models.DateTimeField()
    seq = models.BigIntegerField(default=0)
    # Name of the API key (or "session:<username>") whose batch stored this row: finds a leaked key's data.
    stored_by = models.CharField(max_length=150, blank=True, default="")

    objects = LogQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["flow_run", "timestamp", "seq"], name="log_flowrun_time"),
            models.Index(fields=["task_run", "timestamp", "seq"], name="log_taskrun_time"),
            models.Index(fields=["timestamp"], name="log_time"),
        ]

    @property
    def level_name(self) -> str:
        import logging

        return logging.getLevelName(self.level)


class Worker(models.Model):
    """A task worker, known from its `worker.heartbeat` events (SPEC §5)."""

    name = models.CharField(max_length=255, primary_key=True)
    hostname = models.CharField(max_length=255, blank=True, default="")
    pid = models.PositiveIntegerField(null=True, blank=True)
    task_keys = StoredJSONField(default=list, blank=True)
    flow_names = StoredJSONField(default=list, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    # Name of the API key (or "session:<username>") whose batch stored this row: finds a leaked key's data.
    stored_by = models.CharField(max_length=150, blank=True, default="")

    objects = WorkerQuerySet.as_manager()


class CreatedEventConflict(models.Model):
    """A `*.created` event for a run that already took another one saying something else.

    A run takes one created event; a second one with different fields (a forged or
    buggy client) is not applied but kept here, with the key that sent it, for review.
    """

    id = models.UUIDField(primary_key=True)  # the event id
    run_type = models.CharField(max_length=16)  # "flow_run" or "task_run"
    run_id = models.UUIDField(db_index=True)
    occurred = models.DateTimeField()
    fields = StoredJSONField(help_text="what the event said about the run")
    stored_by = models.CharField(max_length=150, blank=True, default="")
    received = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.run_type} {self.run_id}: created event {self.id}"
