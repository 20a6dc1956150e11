"""API keys in Django admin: see and revoke them; keys are created with `manage.py createapikey`."""
from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone

from api.models import APIKey


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "scope", "prefix", "created", "last_used", "revoked"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    fields = ["name", "scope", "prefix", "created", "last_used", "revoked_at"]
    readonly_fields = ["scope", "prefix", "created", "last_used", "revoked_at"]  # hashed_key is never shown
    actions = ["revoke_selected"]

    @admin.display(boolean=True)
    def revoked(self, key: APIKey) -> bool:
        return key.revoked_at is not None

    @admin.action(description="Revoke selected keys")
    def revoke_selected(self, request, queryset) -> None:
        count = queryset.active().update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False  # a key must be shown once to its creator: `manage.py createapikey NAME --scope ...`
