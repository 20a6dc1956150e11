# stub: replaced by dashpages's implementation at merge
"""HTML fragments that keep an open page current (the contract between the
websocket consumer and the pages). This stub renders one out-of-band element
per changed run so the live plumbing can be tested before the pages exist."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils.html import format_html, format_html_join


@dataclass
class Changes:
    flow_run_ids: set[str] = field(default_factory=set)
    task_run_ids: set[str] = field(default_factory=set)
    logs: bool = False
    workers: bool = False


def render_update(path: str, query: QueryDict, user, changes: Changes | None) -> str:
    """HTML with hx-swap-oob elements keyed by id; changes=None refreshes everything; "" = nothing."""
    if changes is None:
        return ""
    flow_rows = format_html_join(
        "", '<div id="flow-run-{}" hx-swap-oob="true"></div>', ((i,) for i in sorted(changes.flow_run_ids))
    )
    task_rows = format_html_join(
        "", '<div id="task-run-{}" hx-swap-oob="true"></div>', ((i,) for i in sorted(changes.task_run_ids))
    )
    return flow_rows + task_rows
