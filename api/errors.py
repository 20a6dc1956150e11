"""Every API error is JSON that says what is wrong; never an HTML 500 page."""
from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig, ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return Response({"error": "request body too large"}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
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
