"""GET /api/logs/: log records, oldest first (SPEC §4.2)."""
from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound

from api.filters import FilterBackend, LogFilter
from api.pagination import Timeline
from api.serializers import LogSerializer
from orchestrator.models import Log


@extend_schema(
    summary="Log records, oldest first",
    description=(
        "Ordered by (timestamp, seq). Cursor-paginated: 200 by default, `page_size` up to 1000; a page ends "
        "early at about 4 MiB. Messages over 4,096 characters are cut (`truncated` names them): "
        "`GET /api/logs/{id}/` has the whole record."
    ),
)
class LogList(generics.ListAPIView):
    queryset = Log.objects.all()
    serializer_class = LogSerializer
    filter_backends = [FilterBackend]
    filterset_class = LogFilter
    pagination_class = Timeline


@extend_schema(summary="One log record, its message whole")
class LogDetail(generics.RetrieveAPIView):
    queryset = Log.objects.all()
    serializer_class = LogSerializer

    def get_object(self):
        raw = self.kwargs["pk"]
        try:
            record = Log.objects.filter(pk=uuid.UUID(raw)).first()
        except ValueError:
            record = None
        if record is None:
            raise NotFound(f"no log record with id {raw[:100]!r}")
        return record
