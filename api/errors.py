"""Every API error is JSON that says what is wrong; never an HTML 500 page."""
from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return Response({"error": "request body too large"}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):  # e.g. more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS
        return Response({"error": f"bad request: {exc}"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: let Django log it
    if isinstance(response.data, dict) and "detail" in response.data and len(response.data) == 1:
        response.data = {"error": str(response.data["detail"])}
    elif not isinstance(response.data, dict) or "error" not in response.data:
        response.data = {"error": "invalid request", "details": response.data}
    return response


def bad_parameters(errors: dict[str, list[str]]) -> exceptions.ValidationError:
    """A 400 whose `error` names each bad query parameter and says what is wrong with it."""
    summary = "; ".join(f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in errors.items())
    return exceptions.ValidationError({"error": f"invalid query parameter {summary}", "details": errors})
