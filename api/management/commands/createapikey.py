"""`manage.py createapikey NAME [--scope ingest|read|admin]`: issue an API key and print it once."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from api.models import APIKey, Scope


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

    def handle(self, *args, name: str, scope: str, **options) -> None:
        if not name.strip():
            raise CommandError("NAME must not be empty")
        if len(name) > APIKey._meta.get_field("name").max_length:
            raise CommandError(f"NAME is longer than {APIKey._meta.get_field('name').max_length} characters")
        key, raw = APIKey.issue(name, scope)
        # The human line goes to stderr so that scripts can read stdout's last line as the key.
        self.stderr.write(f"API key '{key.name}' (scope {key.scope}) created. It is shown once; store it now:")
        self.stdout.write(raw)
