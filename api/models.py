"""API keys: shown once at creation, stored only as a SHA-256 hash."""
from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    INGEST = "ingest", "ingest (post events only)"
    READ = "read", "read (GET only)"
    ADMIN = "admin", "admin (ingest and read)"


KEY_PREFIX = "orc_"


def hash_key(raw: str) -> str:
    # Keys are 256-bit random, so a fast unsalted hash is enough and allows an indexed lookup.
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class APIKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class APIKey(models.Model):
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.INGEST)
    prefix = models.CharField(max_length=16, help_text="first characters of the key, to recognise it")
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = APIKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.scope}, {self.prefix}…)"

    @classmethod
    def issue(cls, name: str, scope: str = Scope.INGEST) -> tuple["APIKey", str]:
        """Create a key; return the row and the raw key (the only time it is known)."""
        if scope not in Scope.values:
            raise ValueError(f"unknown scope {scope!r}; choose one of {', '.join(Scope.values)}")
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(name=name, scope=scope, prefix=raw[:12], hashed_key=hash_key(raw))
        return key, raw

    @classmethod
    def find(cls, raw: str) -> "APIKey | None":
        return cls.objects.active().filter(hashed_key=hash_key(raw)).first()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])

    def allows(self, scope_needed: str) -> bool:
        return self.scope == Scope.ADMIN or self.scope == scope_needed
