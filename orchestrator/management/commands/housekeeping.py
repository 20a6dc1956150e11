"""`manage.py housekeeping`: mark Crashed the background runs of workers that stopped heart-beating."""
from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from orchestrator.housekeeping import crash_runs_of_silent_workers
from orchestrator.models import WORKER_RECENT


class Command(BaseCommand):
    help = "Mark Crashed every unfinished background run whose worker has been silent too long."

    def add_arguments(self, parser):
        parser.add_argument("--stale-after", type=float, default=WORKER_RECENT.total_seconds(),
                            help="seconds without a heartbeat after which a worker counts as gone (default 60)")

    def handle(self, *args, stale_after: float, **options):
        crashed = crash_runs_of_silent_workers(timedelta(seconds=stale_after))
        for run_id in crashed:
            self.stdout.write(f"crashed {run_id}")
        self.stdout.write(f"{len(crashed)} run(s) marked Crashed")
