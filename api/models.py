"""API keys: shown once at creation, stored only as a SHA-256 hash."""
from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time

from datetime import timedelta

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

    def update(self, **kwargs):
        if kwargs.keys() - {"last_used"}:
            forget_recent_keys()  # e.g. the admin's "revoke selected": this process refuses them at once
        return super().update(**kwargs)


class RecentKeys:
    """Active keys read from the database in the last `seconds`, by hash: most requests of a busy
    client then cost no key query. Only found keys are kept (a new key works at once)."""

    def __init__(self, seconds: float, max_keys: int = 1000) -> None:
        self.seconds = seconds
        self.max_keys = max_keys
        self._found: dict[str, tuple[float, "APIKey"]] = {}
        self._lock = threading.Lock()

    def get(self, hashed: str, load):
        now = time.monotonic()
        entry = self._found.get(hashed)
        if entry is not None and now - entry[0] < self.seconds:
            return entry[1]
        key = load(hashed)
        with self._lock:
            if key is None:
                self._found.pop(hashed, None)
            elif self.seconds > 0:
                if len(self._found) >= self.max_keys:
                    self._found.clear()
                self._found[hashed] = (now, key)
        return key

    def clear(self) -> None:
        with self._lock:
            self._found.clear()


# Bound on how long another process's revocation of a key may go unnoticed here (seconds).
KEY_CACHE_SECONDS = float(os.environ.get("ORCHESTRATOR_API_KEY_CACHE_SECONDS", "2"))
_recent = RecentKeys(KEY_CACHE_SECONDS)


def forget_recent_keys() -> None:
    _recent.clear()


class APIKey(models.Model):
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.INGEST)
    prefix = models.CharField(max_length=16, help_text="first characters of the key, to recognise it")
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, help_text="recorded at most once a minute")
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="empty: never expires")

    objects = APIKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        permissions = [
            # Sessions read freely; writing through a session needs staff or these.
            ("ingest_through_session", "Can post events while logged in"),
            ("admin_through_session", "Can take admin-scope API actions while logged in"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.scope}, {self.prefix}…)"

    @classmethod
    def issue(
        cls, name: str, scope: str = Scope.INGEST, expires_in: timedelta | None = None
    ) -> tuple["APIKey", str]:
        """Create a key; return the row and the raw key (the only time it is known)."""
        if scope not in Scope.values:
            raise ValueError(f"unknown scope {scope!r}; choose one of {', '.join(Scope.values)}")
        if expires_in is not None and expires_in <= timedelta(0):
            raise ValueError("expires_in must be positive")
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        expires_at = timezone.now() + expires_in if expires_in is not None else None
        key = cls.objects.create(
            name=name, scope=scope, prefix=raw[:12], hashed_key=hash_key(raw), expires_at=expires_at
        )
        return key, raw

    @classmethod
    def find(cls, raw: str) -> "APIKey | None":
        """The active key `raw`, from the database or, when read there less than CACHE_SECONDS ago,
        from this process's memory: a revocation by another process takes effect within that bound."""
        return _recent.get(hash_key(raw), lambda hashed: cls.objects.active().filter(hashed_key=hashed).first())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    LAST_USED_RESOLUTION = timedelta(minutes=1)

    def record_use(self, now=None) -> None:
        """Remember when the key was last used, writing at most once a minute per key:
        a busy ingest key costs one UPDATE a minute, not one per request."""
        now = now or timezone.now()
        if self.last_used is None or now - self.last_used >= self.LAST_USED_RESOLUTION:
            type(self).objects.filter(pk=self.pk).update(last_used=now)
            self.last_used = now

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget_recent_keys()

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])

    def allows(self, scope_needed: str) -> bool:
        return self.scope == Scope.ADMIN or self.scope == scope_needed
