"""POST /api/claims/: a task worker claims several dispatches at once (worker use).

    {"worker": "host:pid", "claims": [{"kind": "task" | "flow", "id": run id, "dispatch": n}, ...]}
    → 200 {"claims": [{"id", "kind", "outcome", "detail"}, ...]}, in the order asked

`outcome` is "claimed", or why not ("stale", "cancelled", "taken", "not-yet", "unknown"): at most
one claim of a dispatch is ever granted. The run's message carries what the worker needs to run
it, so the answer is only yes or no; the worker's concurrent threads share one request.

An item with `"confirm": true` asks instead whether a claim the worker holds (taken when the message
arrived, long before its turn) is still its to run: "claimed" if so, else why not.
"""
from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.views.background import UNSTORABLE_TEXT, NotPlain, StoredTextField, StrictIntegerField, StrictUUIDField
from orchestrator import background
from orchestrator.dispatch import BrokerUnavailable

MAX_CLAIMS = 100


class WantedClaim(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["task", "flow"])
    id = StrictUUIDField()
    dispatch = StrictIntegerField(min_value=1, max_value=2**31 - 1)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false only: DRF's BooleanField would also take "yes", "0" or 1 (the schema says boolean)."""

    def to_internal_value(self, data):
        if type(data) is not bool:
            self.fail("invalid", input=data)
        return data


class WantedOrHeldClaim(WantedClaim):
    confirm = StrictBooleanField(
        required=False, default=False,
        help_text="the worker holds this claim already (taken on the message's arrival) and asks whether it may still run it")


class ClaimsSerializer(serializers.Serializer):
    worker = StoredTextField(min_length=1, max_length=255)
    claims = serializers.ListField(child=WantedOrHeldClaim(), min_length=1, max_length=MAX_CLAIMS)


CLAIMS_ANSWER = inline_serializer("ClaimsAnswer", {"claims": serializers.ListField(child=inline_serializer(
    "ClaimAnswer", {"id": serializers.UUIDField(), "kind": serializers.CharField(),
                    "outcome": serializers.CharField(), "detail": serializers.CharField()}))})


def plain_claims(data) -> tuple[str, list[tuple[str, uuid.UUID, int, bool]]]:
    """(worker, [(kind, run id, dispatch, confirm)]) from a body ClaimsSerializer would take as it is (exact JSON
    types, storable text); NotPlain otherwise, and the view validates it (api/fast_path.py)."""
    if type(data) is not dict:
        raise NotPlain
    worker, claims = data.get("worker"), data.get("claims")
    if type(worker) is not str or not 1 <= len(worker) <= 255 or UNSTORABLE_TEXT.search(worker):
        raise NotPlain
    if type(claims) is not list or not 1 <= len(claims) <= MAX_CLAIMS:
        raise NotPlain
    wanted = []
    for claim in claims:
        if type(claim) is not dict:
            raise NotPlain
        kind, run_id, number = claim.get("kind"), claim.get("id"), claim.get("dispatch")
        if kind not in ("task", "flow") or type(run_id) is not str or type(number) is not int or not 1 <= number <= 2**31 - 1:
            raise NotPlain
        confirm = claim.get("confirm", False)
        if type(confirm) is not bool:
            raise NotPlain
        try:
            wanted.append((kind, uuid.UUID(run_id), number, confirm))
        except ValueError:
            raise NotPlain from None
    return worker, wanted


def claims_answer(worker: str, wanted: list[tuple]) -> dict:
    claims = background.claim_many(worker, wanted)
    return {"claims": [
        {"id": str(run_id), "kind": kind, "outcome": claim.outcome, "detail": claim.detail}
        for (kind, run_id, *_), claim in zip(wanted, claims)
    ]}


class ClaimsView(APIView):
    required_scope = "ingest"
    parser_classes = [JSONParser]

    @extend_schema(operation_id="claims_create", summary="A task worker claims dispatches of background runs (worker use)",
                   request=ClaimsSerializer, responses={200: CLAIMS_ANSWER})
    def post(self, request):
        data = ClaimsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = [(c["kind"], c["id"], c["dispatch"], c["confirm"]) for c in data.validated_data["claims"]]
        return Response(claims_answer(data.validated_data["worker"], wanted))


class ReleaseSerializer(serializers.Serializer):
    worker = StoredTextField(min_length=1, max_length=255)
    release = serializers.ListField(child=WantedClaim(), min_length=1, max_length=MAX_CLAIMS)


RELEASE_ANSWER = inline_serializer("ReleaseAnswer", {"released": serializers.ListField(child=inline_serializer(
    "ReleasedClaim", {"id": serializers.UUIDField(), "kind": serializers.CharField(),
                      "outcome": serializers.CharField()}))})


class ReleaseView(APIView):
    """POST /api/claims/release/: a stopping worker hands back dispatches it claimed ahead but never started.

        {"worker": "host:pid", "release": [{"kind", "id", "dispatch"}, ...]}
        → 200 {"released": [{"id", "kind", "outcome"}, ...]}, in the order given

    `outcome`: "released" (the run is dispatched again, for any worker), "started" or "not held".
    """

    required_scope = "ingest"
    parser_classes = [JSONParser]

    @extend_schema(operation_id="claims_release", summary="A stopping task worker hands back runs it claimed but did not start (worker use)",
                   request=ReleaseSerializer, responses={200: RELEASE_ANSWER})
    def post(self, request):
        data = ReleaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        held = [(c["kind"], c["id"], c["dispatch"]) for c in data.validated_data["release"]]
        try:
            outcomes = background.release_many(data.validated_data["worker"], held)
        except BrokerUnavailable as exc:
            return Response({"detail": str(exc), "error": str(exc)}, status=503)
        return Response({"released": [{"id": str(run_id), "kind": kind, "outcome": outcome}
                                      for (kind, run_id, _), outcome in zip(held, outcomes)]})
