"""How the OpenAPI schema describes our authentication (loaded by ApiConfig.ready)."""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `manage.py createapikey`, sent as `Authorization: Bearer <key>`.",
        }
