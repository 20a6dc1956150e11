"""POST /api/events/ — placeholder until ingestion lands."""
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView


class EventBatchView(APIView):
    required_scope = "ingest"

    def post(self, request):
        return Response({"error": "ingestion not implemented yet"}, status=status.HTTP_501_NOT_IMPLEMENTED)
