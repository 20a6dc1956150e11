"""`/workers/`: task workers, what they serve, when they were last heard from."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.utils import timezone
from django.utils.text import slugify

from dashboard.views.common import render_page
from orchestrator.models import WORKER_RECENT, Worker

SHOWN = 500


def workers_context() -> dict:
    now = timezone.now()
    workers = list(Worker.objects.order_by("-last_seen", "name")[:SHOWN])
    for worker in workers:
        worker.online = worker.last_seen >= now - WORKER_RECENT
        worker.slug = slugify(worker.name) or f"w{abs(hash(worker.name))}"
    return {"workers": workers, "online_count": sum(w.online for w in workers), "recent_seconds": int(WORKER_RECENT.total_seconds())}


@login_required
def workers_page(request):
    return render_page(request, "dashboard/workers.html", {"workers-body": "dashboard/partials/workers_body.html"},
                       workers_context())
