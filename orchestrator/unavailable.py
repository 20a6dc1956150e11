"""503 (with Retry-After), never 500, while the database cannot be reached.

The middleware answers for exceptions raised by views (DEBUG or not);
`server_error` (the project's handler500) for those raised anywhere else.
"""
from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import server_error as django_server_error

from orchestrator.availability import RETRY_AFTER_SECONDS, is_database_unavailable


def service_unavailable(exc: BaseException) -> JsonResponse:
    response = JsonResponse(
        {"error": "the database is unavailable; retry later", "reason": type(exc).__name__}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return service_unavailable(exception)
        return None


def server_error(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    exc = sys.exc_info()[1]
    if is_database_unavailable(exc):
        return service_unavailable(exc)
    return django_server_error(request, *args, **kwargs)
