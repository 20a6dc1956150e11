"""POST /api/events/ — the SDK ships event batches here (docs/events.md)."""
from __future__ import annotations

import gc
import json
import re
import threading
import time
import zlib
from contextlib import contextmanager

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import APIKeyPrincipal
from api.rate_limits import IngestRatePerKey
from orchestrator.ingest import ingest_batch


class BadBatch(Exception):
    def __init__(self, message: str, status_code: int = status.HTTP_400_BAD_REQUEST) -> None:
        super().__init__(message)
        self.status_code = status_code


def decoded_body(body: bytes, content_encoding: str, max_bytes: int) -> bytes:
    """The request body without its Content-Encoding, refusing more than max_bytes once decoded."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        if len(body) > max_bytes:
            raise BadBatch(f"batch is {len(body)} bytes; the limit is {max_bytes} bytes", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        return body
    if encoding not in ("gzip", "x-gzip"):
        raise BadBatch(f"unsupported Content-Encoding {content_encoding!r}; send gzip or nothing", status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        # Inflating at most one byte past the limit defuses gzip bombs.
        data = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise BadBatch(f"body is not valid gzip: {exc}") from None
    if len(data) > max_bytes:
        raise BadBatch(f"batch is over {max_bytes} bytes once decompressed", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if not inflater.eof:
        raise BadBatch("gzip body is truncated")
    return data


STRUCTURE = b"{[,"  # every JSON value but the first opens a container or follows a comma
JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def json_values_at_most(data: bytes, max_values: int) -> None:
    """Refuse (413) a body that would decode into more than `max_values` JSON values, before decoding it.

    Decoding builds one Python object per value: 16 MiB of `{},{},...` (16 KB gzipped)
    would take 400 MB and a second of CPU. Counting brackets and commas is a fast upper
    bound; only a body over the budget is counted again outside its strings (a log
    message full of commas is not many values).
    """
    if len(data) - len(data.translate(None, STRUCTURE)) <= max_values:
        return
    outside_strings = JSON_STRING.sub(b'""', data)
    values = len(outside_strings) - len(outside_strings.translate(None, STRUCTURE))
    if values > max_values:
        raise BadBatch(f"batch holds about {values} JSON values; the limit is {max_values} (send smaller batches)",
                       status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def events_of(data: bytes, max_events: int, max_values: int) -> list:
    json_values_at_most(data, max_values)
    try:
        batch = json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadBatch(f"body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(batch, dict) or "events" not in batch:
        raise BadBatch('body must be a JSON object {"events": [...]}')
    events = batch["events"]
    if not isinstance(events, list):
        raise BadBatch('"events" must be an array of event objects')
    if len(events) > max_events:
        raise BadBatch(f"batch has {len(events)} events; the limit is {max_events}", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return events


class CollectorPause:
    """Pauses Python's cyclic garbage collector while batches are being decoded and stored.

    A batch allocates about ten containers per event and frees them all by reference
    counting; collections in between find nothing and cost a fifth of the CPU. The pause
    ends with the last batch in flight, or after `longest` seconds, so cyclic garbage
    from other requests is still collected under steady load.
    """

    def __init__(self, longest: float = 1.0) -> None:
        self.longest = longest
        self.lock = threading.Lock()
        self.in_flight = 0
        self.paused_at: float | None = None  # None: not paused by us

    @contextmanager
    def __call__(self):
        with self.lock:
            if self.in_flight == 0 and gc.isenabled():
                gc.disable()
                self.paused_at = time.monotonic()
            self.in_flight += 1
        try:
            yield
        finally:
            with self.lock:
                self.in_flight -= 1
                overdue = self.paused_at is not None and time.monotonic() - self.paused_at > self.longest
                if self.paused_at is not None and (self.in_flight == 0 or overdue):
                    gc.enable()
                    self.paused_at = None


collector_paused = CollectorPause()


BATCH_RESPONSE = inline_serializer(
    "EventBatchResult",
    {
        "accepted": serializers.IntegerField(help_text="events stored by this request"),
        "duplicates": serializers.IntegerField(help_text="events that were already stored (or repeated in the batch)"),
        "rejected": serializers.ListField(
            child=inline_serializer("RejectedEvent", {"index": serializers.IntegerField(), "error": serializers.CharField()})
        ),
    },
)
ERROR_RESPONSE = inline_serializer("EventBatchError", {"error": serializers.CharField()})


STORED_BY_CHARS = 150  # the rows' stored_by column


def sender_of(request) -> str:
    """What rows this request stores record as `stored_by`: the API key's name, or the logged-in user."""
    key = getattr(request.user, "key", None)
    if isinstance(request.user, APIKeyPrincipal) and key is not None:
        return key.name
    return f"session:{request.user.get_username()}"[:STORED_BY_CHARS]


class EventBatchView(APIView):
    required_scope = "ingest"
    parser_classes = [JSONParser]  # documents the media type; the body is read by `decoded_body`
    throttle_classes = [IngestRatePerKey]

    @extend_schema(
        operation_id="events_ingest",
        summary="Ingest a batch of events",
        description=(
            "Stores SDK events idempotently and order-independently (docs/events.md). Invalid events are "
            "rejected by index while the others are stored. The body may be gzip-compressed "
            "(`Content-Encoding: gzip`)."
        ),
        # Items are any JSON: an item that is not a valid event is rejected by index, not the batch.
        request=inline_serializer("EventBatch", {"events": serializers.ListField(child=serializers.JSONField())}),
        responses={
            200: BATCH_RESPONSE,
            400: OpenApiResponse(ERROR_RESPONSE, description="body is not JSON or not {\"events\": [...]}"),
            401: OpenApiResponse(ERROR_RESPONSE, description="no API key, or an unknown, revoked or expired one"),
            403: OpenApiResponse(ERROR_RESPONSE, description="the key's scope is neither ingest nor admin"),
            413: OpenApiResponse(ERROR_RESPONSE, description="too many events or bytes in one batch"),
            415: OpenApiResponse(ERROR_RESPONSE, description="a Content-Encoding other than gzip"),
        },
        examples=[
            OpenApiExample(
                "Partly rejected batch",
                value={"accepted": 2, "duplicates": 0, "rejected": [{"index": 1, "error": "`occurred`: is required"}]},
                response_only=True,
            )
        ],
    )
    def post(self, request):
        status_code, answer = ingest_body(request.body, request.headers.get("Content-Encoding", ""), sender_of(request))
        return Response(answer, status=status_code)


def ingest_body(body: bytes, content_encoding: str, stored_by: str) -> tuple[int, dict]:
    """(status, answer) for a batch's body: what this view and the fast path (api/fast_path.py) answer."""
    with collector_paused():
        try:
            data = decoded_body(body, content_encoding, settings.ORCHESTRATOR_MAX_BATCH_BYTES)
            events = events_of(data, settings.ORCHESTRATOR_MAX_BATCH_EVENTS, settings.ORCHESTRATOR_MAX_BATCH_VALUES)
        except BadBatch as exc:
            return exc.status_code, {"error": str(exc)}
        # ingest_batch publishes what changed to live pages and long polls once it commits.
        return status.HTTP_200_OK, ingest_batch(events, stored_by=stored_by).as_response()
