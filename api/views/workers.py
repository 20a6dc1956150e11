"""GET /api/workers/: task workers seen recently and what they serve (SPEC §5)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from api.errors import bad_parameters
from api.pagination import RecentlySeen
from api.serializers import WorkerSerializer
from orchestrator.models import Worker

YES = {"1", "true"}
NO = {"0", "false"}


@extend_schema(
    summary="Task workers seen in the last 60 seconds",
    parameters=[OpenApiParameter(
        "all", {"type": "string", "enum": sorted(YES | NO)},
        description="true or 1: every worker ever seen; false or 0 (the default): seen in the last 60 seconds",
    )],
)
class WorkerList(generics.ListAPIView):
    serializer_class = WorkerSerializer
    pagination_class = RecentlySeen

    def get_queryset(self):
        show_all = self.request.query_params.get("all", "false")
        if show_all not in YES | NO:
            raise bad_parameters({"all": ["use true or 1 (every worker), false or 0 (seen in the last 60 seconds)"]})
        workers = Worker.objects.all()
        if show_all in NO:
            workers = workers.recent()
        return workers
