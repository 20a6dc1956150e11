"""API keys in Django admin: see and revoke them; keys are created with `manage.py createapikey`."""
from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone

from api.models import APIKey


class KeyStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("expired", "expired"), ("revoked", "revoked")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)
        return queryset


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "scope", "prefix", "status", "created", "expires_at", "last_used"]
    list_filter = ["scope", KeyStatusFilter]
    search_fields = ["name", "prefix"]
    fields = ["name", "scope", "prefix", "status", "created", "expires_at", "last_used", "revoked_at"]
    readonly_fields = ["scope", "prefix", "status", "created", "expires_at", "last_used", "revoked_at"]  # hashed_key is never shown
    actions = ["revoke_selected"]

    @admin.display(description="status")
    def status(self, key: APIKey) -> str:
        if key.revoked_at is not None:
            return "revoked"
        return "expired" if key.is_expired else "active"

    @admin.action(description="Revoke selected keys")
    def revoke_selected(self, request, queryset) -> None:
        count = queryset.active().update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False  # a key must be shown once to its creator: `manage.py createapikey NAME --scope ...`
