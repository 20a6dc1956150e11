"""What every page view shares: run lookup by id, htmx fragment choice, retry state."""
from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest
from django.shortcuts import render

from orchestrator import retries


def run_or_404(queryset, raw_id: str):
    try:
        run_id = uuid.UUID(str(raw_id))
    except ValueError:
        raise Http404("no run with this id (ids are UUIDs)")
    run = queryset.filter(pk=run_id).first()
    if run is None:
        raise Http404("no run with this id")
    return run


def fragment_target(request: HttpRequest) -> str | None:
    """The element an htmx request will swap, or None for a full page (history restores are full pages)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target


def render_page(request: HttpRequest, page: str, fragments: dict[str, str], context: dict, status: int = 200):
    """The full page, or for an htmx request only the partial its target names."""
    template = fragments.get(fragment_target(request) or "", page)
    return render(request, template, context, status=status)


def retry_context(run, user) -> dict:
    """What a Retry button needs: whether it is disabled, and why."""
    if not retries.can_retry(user):
        reason = "You need the permission to retry runs (orchestrator.retry_run)."
    else:
        reason = retries.refusal_reason(run, user)
    return {"retry_reason": reason}


def page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except (TypeError, ValueError):
        return 1
