"""Load-balancer probes: /healthz (the process answers) and /readyz (it can serve).

/healthz echoes ORCHESTRATOR_INSTANCE, a random token `manage.py up` gives the server it
starts, so the launcher knows that what answers on the port is that server and not
another program holding the port.

Neither needs authentication nor touches the session, so a probe never creates
rows or waits on a login. /readyz answers 503, never 500, when a dependency is down.
"""
from __future__ import annotations

import os

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from orchestrator.availability import RETRY_AFTER_SECONDS, database_problem, redis_problem


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "instance": os.environ.get("ORCHESTRATOR_INSTANCE", "")})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_problem(), "redis": redis_problem()}
    problems = {name: why for name, why in checks.items() if why}
    if problems:
        response = JsonResponse({"status": "unavailable", "problems": problems}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"status": "ok", "checks": {name: "ok" for name in checks}})
