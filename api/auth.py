"""Authentication by `Authorization: Bearer <api key>`, and scope checks.

Views say what they need with `required_scope = "ingest"` or `"read"`
(default: "read" for safe methods, "ingest" otherwise). Logged-in users
(sessions) may read and ingest.
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
        # An admin key may do what a person with the retry permission may (retry and cancel runs).
        return perm == "orchestrator.retry_run" and self.key.allows("admin")

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
        if key.last_used is None or (now - key.last_used).total_seconds() > 60:
            APIKey.objects.filter(pk=key.pk).update(last_used=now)  # at most once a minute per key
        return APIKeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return self.keyword  # makes DRF answer 401 (not 403) to anonymous requests


class HasScope(permissions.BasePermission):
    message = "This API key's scope does not allow this request."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if isinstance(user, APIKeyPrincipal):
            needed = getattr(view, "required_scope", None) or (
                "read" if request.method in permissions.SAFE_METHODS else "ingest"
            )
            return user.key.allows(needed)
        return True
