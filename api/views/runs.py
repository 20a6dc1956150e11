"""Flow runs and task runs: lists, details, a flow run's task runs, state timelines (SPEC §4.2)."""
from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.filters import FilterBackend, FlowRunFilter, TaskRunFilter
from api.pagination import FlowRunTaskRuns, NewestFirst, Timeline
from api.serializers import FlowRunSerializer, StateRecordSerializer, TaskRunSerializer
from orchestrator.models import FlowRun, FlowRunState, TaskRun, TaskRunState


NEWEST_FIRST = (
    "Ordered by `created`, newest first. Cursor-paginated: follow `next`; 50 per page, `page_size` up to 500; "
    "a page ends early at about 4 MiB, and fields over 4,096 characters (16 KiB of JSON) are cut in lists "
    "(`truncated` names them; the run's own endpoint has them whole). "
    "Datetime filters without a timezone are read as UTC. A bad filter value is a 400 naming the filter."
)

TASK_RUNS = TaskRun.objects.with_flow_name()


def parse_run_id(raw: str, kind: str) -> uuid.UUID:
    """A path id that is not a UUID names no run: 404, like any unknown id."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"no {kind} with id {raw[:100]!r} (ids are UUIDs)")


class RunViewSet(viewsets.ReadOnlyModelViewSet):
    """What the flow-run and task-run endpoints share: id lookup, newest-first lists, state timelines."""

    kind: str
    state_model: type[FlowRunState] | type[TaskRunState]
    state_run_field: str
    filter_backends = [FilterBackend]
    pagination_class = NewestFirst
    lookup_value_regex = "[^/]+"  # anything, so that a malformed id is a JSON 404 from get_object

    def get_object(self):
        run = self.get_queryset().filter(pk=parse_run_id(self.kwargs["pk"], self.kind)).first()
        if run is None:
            raise NotFound(f"no {self.kind} with id {self.kwargs['pk']!r}")
        self.check_object_permissions(self.request, run)
        return run

    def existing_run_id(self) -> uuid.UUID:
        run_id = parse_run_id(self.kwargs["pk"], self.kind)
        if not self.queryset.model.objects.filter(pk=run_id).exists():
            raise NotFound(f"no {self.kind} with id {self.kwargs['pk']!r}")
        return run_id

    @extend_schema(
        summary="The run's state timeline, oldest first by (timestamp, seq)",
        description="Every transition, retries included. Cursor-paginated: 200 by default, `page_size` up to 1000.",
        responses=StateRecordSerializer(many=True),  # a paginated list, though the action is on one run
    )
    @action(detail=True, serializer_class=StateRecordSerializer, pagination_class=Timeline, filter_backends=[])
    def states(self, request, pk=None) -> Response:
        run_id = self.existing_run_id()
        timeline = self.state_model.objects.filter(**{self.state_run_field: run_id})
        page = self.paginate_queryset(timeline)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="One entry of the run's state timeline, its message and error whole")
    @action(detail=True, url_path=r"states/(?P<state_id>[^/]+)", serializer_class=StateRecordSerializer,
            filter_backends=[])
    def state(self, request, pk=None, state_id=None) -> Response:
        run_id = self.existing_run_id()
        try:
            entry = self.state_model.objects.filter(**{self.state_run_field: run_id}, pk=uuid.UUID(state_id)).first()
        except ValueError:
            entry = None
        if entry is None:
            raise NotFound(f"no state {state_id[:100]!r} in this {self.kind}'s timeline")
        return Response(self.get_serializer(entry).data)


@extend_schema_view(
    list=extend_schema(summary="Flow runs, newest first", description=NEWEST_FIRST),
    retrieve=extend_schema(summary="One flow run"),
    state=extend_schema(operation_id="flow_runs_state_retrieve"),
)
class FlowRunViewSet(RunViewSet):
    kind = "flow run"
    queryset = FlowRun.objects.with_flow_name()
    serializer_class = FlowRunSerializer
    filterset_class = FlowRunFilter
    state_model = FlowRunState
    state_run_field = "flow_run_id"

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None and self.action == "list":
            self.counts = TaskRun.objects.counts_by_state(run.id for run in page)
        return page

    def get_object(self):
        run = super().get_object()
        self.counts = TaskRun.objects.counts_by_state([run.id])
        return run

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "task_run_counts": getattr(self, "counts", {})}

    @extend_schema(
        summary="A flow run's task runs, oldest first (timeline data)",
        description="Ordered by `created`. Cursor-paginated in big pages: 500 by default, `page_size` up to 2000.",
        responses=TaskRunSerializer(many=True),  # a paginated list, though the action is on one run
    )
    @action(
        detail=True, url_path="task-runs", serializer_class=TaskRunSerializer,
        pagination_class=FlowRunTaskRuns, filter_backends=[],
    )
    def task_runs(self, request, pk=None):
        flow_run_id = self.existing_run_id()
        task_runs = TASK_RUNS.of_flow_run(flow_run_id)
        page = self.paginate_queryset(task_runs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="Task runs across flow runs, newest first", description=NEWEST_FIRST),
    retrieve=extend_schema(summary="One task run"),
    state=extend_schema(operation_id="task_runs_state_retrieve"),
)
class TaskRunViewSet(RunViewSet):
    kind = "task run"
    queryset = TASK_RUNS
    serializer_class = TaskRunSerializer
    filterset_class = TaskRunFilter
    state_model = TaskRunState
    state_run_field = "task_run_id"
