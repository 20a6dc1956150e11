"""`manage.py purge --key NAME`: delete everything one API key stored (see orchestrator/purge.py)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from orchestrator.purge import purge_stored_by


class Command(BaseCommand):
    help = "Delete every run, state, log, worker and conflict row stored by the API key NAME, and repair the runs that remain."

    def add_arguments(self, parser):
        parser.add_argument("--key", required=True, metavar="NAME", help="the API key's name, as `createapikey NAME` gave it")

    def handle(self, *args, key: str, **options):
        if not key.strip():
            raise CommandError("--key needs the name of an API key")
        purged = purge_stored_by(key)
        for label, count in purged.deleted.items():
            self.stdout.write(f"{label}: {count} deleted")
        self.stdout.write(self.style.SUCCESS(
            f"purged what {key!r} stored; {purged.recomputed_runs} remaining run(s) recomputed from their timelines"
        ))
