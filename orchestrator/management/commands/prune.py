"""`manage.py prune --older-than 30d`: delete runs, states and logs older than an age, in batches."""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orchestrator.retention import DEFAULT_BATCH_SIZE, parse_age, prune


class Command(BaseCommand):
    help = "Delete flow runs, task runs, their states, tags and logs older than --older-than, in bounded batches."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", default=f"{settings.ORCHESTRATOR_RETENTION_DAYS}d",
            help="age such as 30d, 12h, 90m, 2w (default: ORCHESTRATOR_RETENTION_DAYS days)",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="rows per table per transaction")
        parser.add_argument("--pause", type=float, default=0.0, help="seconds to sleep between batches")

    def handle(self, *args, older_than: str, batch_size: int, pause: float, **options):
        try:
            age = parse_age(older_than)
        except ValueError as exc:
            raise CommandError(str(exc))
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        cutoff = timezone.now() - age
        pruned = prune(cutoff, batch_size=batch_size, pause=pause)
        summary = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in pruned.as_dict().items())
        self.stdout.write(f"pruned before {cutoff.isoformat()}: {summary}")
