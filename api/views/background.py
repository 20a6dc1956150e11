"""Background runs over the API: `.delay()` creates them, Retry and Cancel act on them, workers claim them.

    POST /api/task-runs/                      create a Scheduled task run for a worker (`.delay()`)
    POST /api/{task,flow}-runs/{id}/retry/    retry one run
    POST /api/task-runs/retry/                retry many: {"ids": [...]} or {"filters": {...}}
    POST /api/{task,flow}-runs/{id}/cancel/   cancel a Scheduled or Running background run
    POST /api/{task,flow}-runs/{id}/claim/    a worker asks to run dispatch N (worker use)

Refusals are 409 (or 403 without the retry permission) with `{"detail": reason}`.
"""
from __future__ import annotations

import re
import uuid

from django.http import QueryDict
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from api.filters import TaskRunFilter
from orchestrator import background, retries
from orchestrator.dispatch import BrokerUnavailable
from orchestrator.event_fields import JSON_ENCODER, MAX_JSON_DEPTH, InvalidEvent, dump_json
from orchestrator.models import TaskRun

UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")  # in a Python str, any surrogate left is an unpaired one

MAX_PARAMETERS_CHARS = 1_048_576
MAX_BATCH_RUNS = 1000


# Retry and cancel pass the scope check as any logged-in caller may read; orchestrator.retries then
# checks the retry permission (staff, the permission, or an admin key) and answers 403 with its reason.
RETRY_SCOPE = "read"


def _summary(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(str(m) for m in messages)}" for field, messages in errors.items())


def refused(exc: retries.RetryRefused) -> Response:
    return Response({"detail": exc.reason, "error": exc.reason}, status=exc.status)


class StrictUUIDField(serializers.UUIDField):
    """A UUID sent as a string only: DRF's UUIDField would also take an integer (or `false`) as uuid.UUID(int=...)."""

    def to_internal_value(self, data):
        if not isinstance(data, (str, uuid.UUID)):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's CharField would also turn the number 5 into "5"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)  # taken as sent, like ingested names
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        if data is not serializers.empty and data is not None and not isinstance(data, str):
            self.fail("invalid")
        return super().run_validation(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's IntegerField would also take "5" or 5.0 (the schema says integer)."""

    def to_internal_value(self, data):
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class StoredTextField(StrictCharField):
    """Text as ingestion stores it: NULs and unpaired surrogates (no database text holds them) become U+FFFD."""

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str):
            data = UNSTORABLE_TEXT.sub("\ufffd", data)
        return super().run_validation(data)


class DelaySerializer(serializers.Serializer):
    id = StrictUUIDField(required=False, help_text="the run's id; the SDK makes one so a resent request is harmless")
    task_key = StoredTextField(min_length=1, max_length=255)
    task_name = StoredTextField(max_length=255, required=False, allow_blank=True, default="")
    name = StoredTextField(max_length=255, required=False, allow_blank=True, default="")
    parameters = serializers.DictField(required=False, default=dict)
    tags = serializers.ListField(child=StoredTextField(min_length=1, max_length=255), required=False, default=list,
                                 max_length=100)
    flow_run_id = StrictUUIDField(required=False, allow_null=True, default=None)
    parent_task_run_id = StrictUUIDField(required=False, allow_null=True, default=None)

    def validate_parameters(self, value):
        import json

        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"parameters must be JSON (no NaN or Infinity): {exc}")
        if len(text) > MAX_PARAMETERS_CHARS:
            raise ValidationError(f"parameters are {len(text)} characters once encoded; the limit is {MAX_PARAMETERS_CHARS}")
        # As ingestion stores JSON: NULs and unpaired surrogates (no database text can hold them) become U+FFFD.
        try:
            return json.loads(dump_json(value, "parameters"))
        except InvalidEvent as exc:
            raise ValidationError(str(exc))


class NotPlain(Exception):
    """A request the fast path leaves to the DRF view (api/fast_path.py)."""


def _plain_text(value, min_length: int = 0) -> str:
    if type(value) is not str or not min_length <= len(value) <= 255 or UNSTORABLE_TEXT.search(value):
        raise NotPlain
    return value


def _plain_uuid(value) -> uuid.UUID | None:
    if value is None:
        return None
    if type(value) is not str:
        raise NotPlain
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotPlain from None


PLAIN_PARAMETERS_CHARS = MAX_PARAMETERS_CHARS // 6  # under the limit however DelaySerializer encodes it


def plain_delayed_run(item) -> background.DelayedRun:
    """What DelaySerializer makes of a `.delay()` item that needs none of its conversions or messages:
    exact JSON types, storable text within the limits, small finite JSON parameters. NotPlain otherwise
    (the serializer then validates it, cleans it or says what is wrong)."""
    if type(item) is not dict:
        raise NotPlain
    get = item.get
    parameters = get("parameters", {})
    tags = get("tags", [])
    if type(parameters) is not dict or type(tags) is not list or len(tags) > 100:
        raise NotPlain
    try:
        text = JSON_ENCODER.encode(parameters)
    except (ValueError, TypeError, RecursionError):
        raise NotPlain from None
    if (len(text) > PLAIN_PARAMETERS_CHARS or "\\u0000" in text or UNSTORABLE_TEXT.search(text)
            or text.count("{") + text.count("[") > MAX_JSON_DEPTH):
        raise NotPlain
    if "id" in item and item["id"] is None:
        raise NotPlain  # DelaySerializer: "This field may not be null."
    return background.DelayedRun(
        run_id=_plain_uuid(get("id")) or uuid.uuid4(),
        task_key=_plain_text(get("task_key"), 1),
        task_name=_plain_text(get("task_name", "")),
        name=_plain_text(get("name", "")),
        parameters=parameters,
        tags=[_plain_text(tag, 1) for tag in tags],
        flow_run_id=_plain_uuid(get("flow_run_id")),
        parent_task_run_id=_plain_uuid(get("parent_task_run_id")),
    )


def create_many(items, plain_only: bool = False) -> tuple[int, dict]:
    """(status, answer) for `{"runs": items}`: a status per run. `plain_only` (the fast path): NotPlain
    unless every item is plain, so that anything needing a message is answered by the view."""
    if not isinstance(items, list) or len(items) > MAX_BATCH_RUNS:
        if plain_only:
            raise NotPlain
        raise ValidationError({"runs": f"must be a list of at most {MAX_BATCH_RUNS} runs"})
    answers: list[dict] = [{} for _ in items]
    valid: list[tuple[int, background.DelayedRun]] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, plain_delayed_run(item)))
            continue
        except NotPlain:
            if plain_only:
                raise
        data = DelaySerializer(data=item)
        if not data.is_valid():
            answers[index] = {"index": index, "status": 400, "error": _summary(data.errors)}
            continue
        fields = dict(data.validated_data)
        valid.append((index, background.DelayedRun(run_id=fields.pop("id", None) or uuid.uuid4(), **fields)))
    try:
        outcome = background.create_delayed_task_runs([run for _, run in valid]) if valid else {}
    except BrokerUnavailable as exc:
        return status.HTTP_503_SERVICE_UNAVAILABLE, {"detail": str(exc), "error": str(exc)}
    for index, run in valid:
        result = outcome[run.run_id]
        answer = {"index": index, "id": str(run.run_id)}
        if isinstance(result, background.NotABackgroundRun):
            answer.update(status=409, error=str(result))
        else:
            answer["status"] = 201 if result else 200
        answers[index] = answer
    return status.HTTP_200_OK, {"runs": answers}


class ClaimSerializer(serializers.Serializer):
    worker = StoredTextField(min_length=1, max_length=255)
    dispatch = StrictIntegerField(min_value=1, max_value=2**31 - 1)


class BulkRetrySerializer(serializers.Serializer):
    ids = serializers.ListField(child=StrictUUIDField(), required=False, max_length=retries.MAX_BULK)
    filters = serializers.DictField(child=StrictCharField(allow_blank=True), required=False)

    def validate(self, data):
        if ("ids" in data) == ("filters" in data):
            raise ValidationError('send either {"ids": [...]} or {"filters": {...}}')
        return data


# The schema says what validate() enforces: exactly one of the two shapes.
BULK_RETRY_REQUEST = PolymorphicProxySerializer(
    component_name="BulkRetryRequest", resource_type_field_name=None, serializers=[
        inline_serializer("BulkRetryByIds", {"ids": serializers.ListField(child=serializers.UUIDField(),
                                                                           max_length=retries.MAX_BULK)}),
        inline_serializer("BulkRetryByFilters", {"filters": serializers.DictField(
            child=serializers.CharField(allow_blank=True))}),
    ])
BULK_RESULT = inline_serializer("BulkRetryResult", {
    "retried": serializers.ListField(child=serializers.UUIDField()),
    "refused": serializers.DictField(child=serializers.CharField(), help_text="run id → reason"),
})
REFUSAL = inline_serializer("Refusal", {"detail": serializers.CharField()})


class BackgroundActions:
    """Retry, cancel and claim: shared by the task-run and flow-run view sets."""

    required_scope: str | None = None  # per action (api.auth.HasScope); None: by the request's method
    # JSON bodies only: a form body cannot say null or a list of one, and the schema would promise it could.
    parser_classes = [JSONParser]

    def _run_or_404(self):
        run = self.queryset.model.objects.filter(pk=self._run_id()).first()
        if run is None:
            raise NotFound(f"no {self.kind} with id {self.kwargs['pk']!r}")
        return run

    def _run_id(self) -> uuid.UUID:
        try:
            return uuid.UUID(self.kwargs["pk"])
        except ValueError:
            raise NotFound(f"no {self.kind} with id {self.kwargs['pk'][:100]!r} (ids are UUIDs)")

    @extend_schema(summary="Retry the run on a task worker", request=None, responses={202: None, 403: REFUSAL, 409: REFUSAL})
    @action(detail=True, methods=["post"], filter_backends=[], required_scope=RETRY_SCOPE)
    def retry(self, request, pk=None):
        retry = retries.retry_task_run if self.kind == "task run" else retries.retry_flow_run
        try:
            run = retry(self._run_id(), request.user)
        except self.queryset.model.DoesNotExist:
            raise NotFound(f"no {self.kind} with id {pk!r}")
        except retries.RetryRefused as exc:
            return refused(exc)
        return Response(self.detail_of(run), status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Cancel a Scheduled or Running background run", request=None,
                   responses={200: None, 403: REFUSAL, 409: REFUSAL})
    @action(detail=True, methods=["post"], filter_backends=[], required_scope=RETRY_SCOPE)
    def cancel(self, request, pk=None):
        run = self._run_or_404()
        try:
            retries.cancel_run(run, request.user)
        except retries.RetryRefused as exc:
            return refused(exc)
        return Response(self.detail_of(run))

    @extend_schema(summary="A task worker claims dispatch N of a background run (worker use)",
                   request=ClaimSerializer, responses={200: None, 409: REFUSAL})
    @action(detail=True, methods=["post"], filter_backends=[])
    def claim(self, request, pk=None):
        data = ClaimSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kind = "task" if self.kind == "task run" else "flow"
        claim = background.claim(kind, self._run_id(), data.validated_data["worker"], data.validated_data["dispatch"])
        if not claim.ok:
            return Response({"detail": claim.detail, "error": claim.detail, "outcome": claim.outcome},
                            status=status.HTTP_409_CONFLICT)
        run = claim.run
        return Response({
            "outcome": "claimed",
            "kind": kind,
            "id": str(run.pk),
            "key": claim.background.key,
            "name": run.name,
            "parameters": claim.background.parameters,
            "run_count": run.run_count,
            "flow_run_id": str(run.flow_run_id) if kind == "task" and run.flow_run_id else None,
            "tags": run.tags,
        })

    def detail_of(self, run):
        self.kwargs["pk"] = str(run.pk)
        return self.get_serializer(self.get_object()).data


class TaskRunBackgroundActions(BackgroundActions):
    @extend_schema(
        summary="Create background task runs (what `.delay()` calls)",
        description=(
            'One run (the object below; 201 created, 200 if its id exists already) or many: '
            '`{"runs": [object, ...]}` (at most 1000), answered 200 with `{"runs": [{"index", "id", "status", '
            '"error"?}]}`, a status per run (201, 200, 400 or 409).'
        ),
        request=DelaySerializer, responses={201: None, 200: None, 409: REFUSAL},
    )
    def create(self, request):
        if isinstance(request.data, dict) and "runs" in request.data:
            return self._create_many(request.data["runs"])
        data = DelaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        run_id = fields.pop("id", None) or uuid.uuid4()
        try:
            run, created = background.create_delayed_task_run(run_id=run_id, **fields)
        except background.NotABackgroundRun as exc:
            return Response({"detail": str(exc), "error": str(exc)}, status=status.HTTP_409_CONFLICT)
        except BrokerUnavailable as exc:
            return Response({"detail": str(exc), "error": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(self.detail_of(run), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _create_many(self, items) -> Response:
        status_code, answer = create_many(items)
        return Response(answer, status=status_code)

    @extend_schema(operation_id="task_runs_bulk_retry", summary="Retry many task runs: by ids (at most 1,000) or by the list's filters (the newest 1,000 matching)", request=BULK_RETRY_REQUEST,
                   responses={200: BULK_RESULT, 403: REFUSAL})
    @action(detail=False, methods=["post"], url_path="retry", filter_backends=[], required_scope=RETRY_SCOPE)
    def bulk_retry(self, request):
        data = BulkRetrySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "ids" in data.validated_data:
            ids = data.validated_data["ids"]
        else:
            query = QueryDict(mutable=True)
            query.update(data.validated_data["filters"])
            filterset = TaskRunFilter(query, queryset=TaskRun.objects.order_by("-created"))
            unknown = sorted(set(query) - set(filterset.filters))
            if unknown:
                raise ValidationError({"filters": f"unknown filter(s) {', '.join(unknown)[:200]}; use those of GET /api/task-runs/"})
            if not filterset.is_valid():
                errors = {name: list(messages) for name, messages in filterset.errors.items()}
                raise ValidationError({"filters": errors})
            ids = retries.newest_matching(filterset.qs)  # more match: the newest MAX_BULK, as the dashboard says
        try:
            batch = retries.retry_task_runs(ids, request.user)
        except retries.RetryRefused as exc:
            return refused(exc)
        return Response({"retried": [str(i) for i in batch.retried],
                         "refused": {str(k): v for k, v in batch.refused.items()}})
