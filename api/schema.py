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


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "what is wrong, for a person"},
        "details": {"description": "per-parameter or per-field messages, when there are several"},
    },
    "required": ["error"],
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait before retrying"}}
# Every operation can answer these; each view documents its own successes and any others.
COMMON_ERRORS = {
    "400": ("a query parameter or the body is invalid; `error` names it", None),
    "401": ("no API key or session, or an unknown, revoked or expired key", None),
    "403": ("the key's scope does not allow this request", None),
    "404": ("no such run, or an invalid pagination cursor", None),
    "503": ("the database is unavailable; retry after Retry-After seconds", RETRY_AFTER),
}
INGEST_ERRORS = {
    "413": ("too many events or bytes in one batch", None),
    "429": ("too many requests for this API key; retry after Retry-After seconds", RETRY_AFTER),
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: document the JSON errors every endpoint can answer."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            errors = dict(COMMON_ERRORS)
            if path.endswith("/events/") and method == "post":
                errors.update(INGEST_ERRORS)
            responses = operation.setdefault("responses", {})
            for status, (description, headers) in errors.items():
                response = responses.setdefault(status, {"description": description})
                response.setdefault("content", {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}})
                if headers:
                    response.setdefault("headers", {}).update(headers)
    return result


def describe_bulk_retry_filters(result, generator, request, public):
    """drf-spectacular postprocessing hook: the bulk retry's `filters` are exactly the list's query
    filters (same names, same patterns), and nothing else, as the view enforces."""
    listing = result.get("paths", {}).get("/api/task-runs/", {}).get("get", {})
    component = result.get("components", {}).get("schemas", {}).get("BulkRetryByFilters")
    if not listing or not component:
        return result
    # A blank value means "not filtered", as in the list's query string.
    filters = {p["name"]: {"anyOf": [p.get("schema", {"type": "string"}), {"type": "string", "maxLength": 0}]}
               for p in listing.get("parameters", [])
               if p.get("in") == "query" and p["name"] not in ("cursor", "page_size")}
    component["properties"]["filters"] = {"type": "object", "properties": filters, "additionalProperties": False,
                                          "description": "the filters of GET /api/task-runs/"}
    # One of the two shapes must be sent (the view answers 400 to no body): the body is required.
    bulk = result["paths"].get("/api/task-runs/retry/", {}).get("post", {})
    if "requestBody" in bulk:
        bulk["requestBody"]["required"] = True
    return result
