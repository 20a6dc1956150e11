"""Authentication by `Authorization: Bearer <api key>`, and scope checks.

Views say what they need with `required_scope = "ingest"`, `"read"` or `"admin"`
(default: "read" for safe methods, "ingest" otherwise). Logged-in users
(sessions) may read; ingesting or admin-scope actions through a session need
staff status (or the permission `api.ingest_through_session` /
`api.admin_through_session`, or the view's own `session_permission`, e.g.
`"orchestrator.retry_run"` on retry endpoints), so any account's stolen session
cannot write.
"""
from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from api.models import APIKey


class APIKeyPrincipal:
    """The `request.user` of a request authenticated by an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, key: APIKey) -> None:
        self.key = key
        self.pk = None
        self.username = f"apikey:{key.name}"

    def has_perm(self, perm: str, obj=None) -> bool:
        return False

    def __str__(self) -> str:
        return self.username


class APIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <api key>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("API key contains invalid characters.")
        key = APIKey.find(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        now = timezone.now()
        if key.expires_at is not None and key.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                f"This API key expired on {key.expires_at:%Y-%m-%d %H:%M} UTC; "
                "create a new one with `manage.py createapikey`."
            )
        key.record_use(now)
        return APIKeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return self.keyword  # makes DRF answer 401 (not 403) to anonymous requests


SESSION_PERMISSIONS = {"ingest": "api.ingest_through_session", "admin": "api.admin_through_session"}


class HasScope(permissions.BasePermission):
    message = "This API key's scope does not allow this request."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        needed = getattr(view, "required_scope", None) or (
            "read" if request.method in permissions.SAFE_METHODS else "ingest"
        )
        if isinstance(user, APIKeyPrincipal):
            return user.key.allows(needed)
        if needed == "read":
            return True
        permission = getattr(view, "session_permission", None) or SESSION_PERMISSIONS.get(needed)
        if user.is_staff or (permission and user.has_perm(permission)):
            return True
        # Instances are per request, so the message can name what this user lacks.
        self.message = (
            f"Logged-in users may read; {needed} actions through a session need a staff account "
            f"or the permission {permission}."
        )
        return False
