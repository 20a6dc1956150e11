"""OpenAPI schema and Swagger UI, behind the same authentication as the rest of the API.

Swagger UI's assets come from drf-spectacular-sidecar's static files: no CDN at run time.
Its page has no inline script or style, so it works under the Content Security Policy.
"""
from __future__ import annotations

from django.templatetags.static import static
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.views import APIView

from api.auth import HasScope


class SchemaView(SpectacularAPIView):
    permission_classes = [HasScope]


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI whose start-up script is a separate request (`?script`), not inline:
    the Content Security Policy runs scripts from our origin only."""

    permission_classes = [HasScope]
    template_name = "api/swagger_ui.html"

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return static(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png")


class UnknownPath(APIView):
    """Any other /api/.../ path: a JSON 404 (after authentication, like every endpoint)."""

    schema = None

    def dispatch_unknown(self, request, *args, **kwargs):
        raise exceptions.NotFound(f"no API endpoint at {request.path[:200]!r}")

    get = post = put = patch = delete = dispatch_unknown
