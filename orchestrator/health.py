"""`GET /healthz`: is this server up and its database reachable? Open to anyone; reveals nothing.

`instance` echoes ORCHESTRATOR_INSTANCE, a random token the launcher gives the server it
starts, so the launcher knows that what answers on the port is that server and not
another program (or another orchestrator) holding the port.
"""
from __future__ import annotations

import os

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    instance = os.environ.get("ORCHESTRATOR_INSTANCE", "")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "database unavailable", "instance": instance}, status=503)
    return JsonResponse({"status": "ok", "instance": instance})
