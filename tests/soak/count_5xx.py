"""A pytest plugin for the soak's hostile-input row: counts every request Django's test client
handled and every 5xx answer among them, and writes both to $SOAK_5XX_REPORT at the end."""
from __future__ import annotations

import json
import os

counts = {"requests": 0, "server_errors": 0}


def pytest_configure(config) -> None:
    from django.core.handlers.base import BaseHandler

    get_response = BaseHandler.get_response

    def counted(self, request):
        response = get_response(self, request)
        counts["requests"] += 1
        if response.status_code >= 500:
            counts["server_errors"] += 1
        return response

    BaseHandler.get_response = counted


def pytest_unconfigure(config) -> None:
    path = os.environ.get("SOAK_5XX_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(counts, f)
