"""`manage.py createapikey NAME [--scope ingest|read|admin] [--expires-in 90d]`: issue an API key and print it once."""
from __future__ import annotations

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from api.models import APIKey, Scope

DURATION = re.compile(r"^\s*(\d{1,6})\s*([mhdw])\s*$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'90d' → 90 days; units m (minutes), h, d, w."""
    match = DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise CommandError(f"--expires-in {text!r}: give a positive number and a unit, e.g. 90d, 12h, 30m or 2w")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


class Command(BaseCommand):
    help = "Create an API key. The key is printed once, alone on the last line of stdout; only its hash is stored."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="what the key is for, e.g. 'ci' or 'worker-1'")
        parser.add_argument(
            "--scope",
            choices=Scope.values,
            default=Scope.INGEST,
            help="ingest: post events only (default); read: GET only; admin: both",
        )
        parser.add_argument(
            "--expires-in",
            metavar="DURATION",
            help="the key stops working after this long, e.g. 90d, 12h, 30m, 2w (default: never)",
        )

    def handle(self, *args, name: str, scope: str, expires_in: str | None, **options) -> None:
        if not name.strip():
            raise CommandError("NAME must not be empty")
        if len(name) > APIKey._meta.get_field("name").max_length:
            raise CommandError(f"NAME is longer than {APIKey._meta.get_field('name').max_length} characters")
        lifetime = parse_duration(expires_in) if expires_in is not None else None
        key, raw = APIKey.issue(name, scope, expires_in=lifetime)
        expiry = f", expires {key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else ", never expires"
        # The human line goes to stderr so that scripts can read stdout's last line as the key.
        self.stderr.write(f"API key '{key.name}' (scope {key.scope}{expiry}) created. It is shown once; store it now:")
        self.stdout.write(raw)
