"""GET /api/logs/: log records, oldest first (SPEC §4.2)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics

from api.filters import FilterBackend, LogFilter
from api.pagination import Timeline
from api.serializers import LogSerializer
from orchestrator.models import Log


@extend_schema(
    summary="Log records, oldest first",
    description="Ordered by (timestamp, seq). Cursor-paginated: 200 by default, `page_size` up to 1000.",
)
class LogList(generics.ListAPIView):
    queryset = Log.objects.all()
    serializer_class = LogSerializer
    filter_backends = [FilterBackend]
    filterset_class = LogFilter
    pagination_class = Timeline
