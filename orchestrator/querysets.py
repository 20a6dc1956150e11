"""The run queries every reader shares (API lists, dashboard pages, live fragments).

One "flow runs, newest first with flow names" query, one "a flow run's task runs
for its timeline" query, and so on, each matching an index of orchestrator.models.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.db.models import F, Max, Min
from django.db.models.functions import TruncDay, TruncHour, TruncMinute
from django.utils import timezone

STATE_TYPES = (
    "SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CRASHED", "CANCELLED", "CANCELLING", "PAUSED",
)
WORKER_RECENT = timedelta(seconds=60)  # a worker not heard from for this long is not "live"


def empty_state_counts() -> dict[str, int]:
    return {state_type: 0 for state_type in STATE_TYPES}


@dataclass
class ActivityBucket:
    start: datetime
    end: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class FlowRunQuerySet(models.QuerySet):
    def with_flow_name(self):
        """Only the flow's name joined in, not whole flow rows."""
        return self.annotate(flow_name=F("flow__name"))

    def newest_first(self):
        return self.order_by("-created", "-id")

    def children_of(self, flow_run_id: uuid.UUID):
        return self.filter(parent_flow_run_id=flow_run_id).with_flow_name().order_by("created", "id")

    def activity(self, since: datetime, until: datetime, buckets: int = 48) -> list[ActivityBucket]:
        """Runs created per time bucket in [since, until), counted by state type: one grouped query.

        The database groups by a calendar unit (minute, hour or day) small enough for the range;
        the few hundred groups are then merged into `buckets` equal columns.
        """
        span = max((until - since).total_seconds(), 60.0)
        width = span / buckets
        trunc = TruncMinute if width < 3600 else TruncHour if width < 86400 else TruncDay
        rows = (
            self.filter(created__gte=since, created__lt=until)
            .annotate(unit=trunc("created"))
            .values_list("unit", "state_type")
            .annotate(n=models.Count("id"))
            .order_by()
        )
        columns = [
            ActivityBucket(since + timedelta(seconds=i * width), since + timedelta(seconds=(i + 1) * width),
                           empty_state_counts())
            for i in range(buckets)
        ]
        for unit, state_type, n in rows:
            index = min(max(int((unit - since).total_seconds() // width), 0), buckets - 1)
            columns[index].counts[state_type or "PENDING"] += n
        return columns


class TaskRunQuerySet(models.QuerySet):
    def with_flow_name(self):
        return self.annotate(flow_name=F("flow_run__flow__name"), flow_run_name=F("flow_run__name"))

    def newest_first(self):
        return self.order_by("-created", "-id")

    def of_flow_run(self, flow_run_id: uuid.UUID):
        """A flow run's task runs in timeline order (index taskrun_flowrun_created)."""
        return self.filter(flow_run_id=flow_run_id).order_by("created", "id")

    def timeline_span(self, flow_run_id: uuid.UUID) -> dict:
        """Earliest start and latest end among a flow run's task runs, and how many there are."""
        return self.filter(flow_run_id=flow_run_id).aggregate(
            first_start=Min("start_time"), last_end=Max("end_time"), first_created=Min("created"),
            count=models.Count("id"),
        )

    def counts_by_state(self, flow_run_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
        """Task runs per state type for each flow run, in one aggregate query (index taskrun_flowrun_created)."""
        ids = list(flow_run_ids)
        counts = {run_id: empty_state_counts() for run_id in ids}
        if ids:
            rows = (
                self.filter(flow_run_id__in=ids)
                .exclude(state_type="")
                .values_list("flow_run_id", "state_type")
                .annotate(n=models.Count("id"))
                .order_by()
            )
            for flow_run_id, state_type, n in rows:
                counts[flow_run_id][state_type] = n
        return counts


class LogQuerySet(models.QuerySet):
    def oldest_first(self):
        return self.order_by("timestamp", "seq", "id")

    def tail(self, limit: int) -> list:
        """The newest `limit` records, returned oldest first (what a log view shows)."""
        newest = list(self.order_by("-timestamp", "-seq", "-id")[:limit])
        newest.reverse()
        return newest


class WorkerQuerySet(models.QuerySet):
    def recent(self, window: timedelta = WORKER_RECENT):
        return self.filter(last_seen__gte=timezone.now() - window)
