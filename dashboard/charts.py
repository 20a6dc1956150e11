"""Geometry of the server-rendered SVG charts: the activity chart and the task-count bars.

Coordinates are SVG user units (attributes, so no inline style is needed); colours
come from the stylesheet through the `state-<type>` classes.
"""
from __future__ import annotations

from dataclasses import dataclass

from orchestrator.querysets import ActivityBucket

# Bottom to top in a stack; the same order in every legend.
STACK_ORDER = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED", "CANCELLING", "RUNNING", "PENDING", "SCHEDULED", "PAUSED")
CHART_WIDTH = 1000
CHART_HEIGHT = 120


def svg_number(value: float) -> str:
    """Formatted once here: the template would otherwise localize every float it prints."""
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


@dataclass
class Segment:
    state: str  # lower-case type, for the css class
    x: str
    y: str
    width: str
    height: str
    count: int


@dataclass
class Column:
    title: str
    segments: list[Segment]


def activity_columns(buckets: list[ActivityBucket]) -> tuple[list[Column], int]:
    """Stacked columns, one per bucket, and the tallest column's total (the y-axis maximum)."""
    peak = max((bucket.total for bucket in buckets), default=0)
    if not buckets:
        return [], 0
    step = CHART_WIDTH / len(buckets)
    gap = min(step * 0.2, 4)
    columns = []
    for index, bucket in enumerate(buckets):
        y = float(CHART_HEIGHT)
        segments = []
        for state in STACK_ORDER:
            n = bucket.counts.get(state, 0)
            if not n:
                continue
            height = CHART_HEIGHT * n / peak
            y -= height
            segments.append(Segment(state.lower(), svg_number(index * step + gap / 2), svg_number(y),
                                    svg_number(step - gap), svg_number(height), n))
        parts = ", ".join(f"{s.count} {s.state}" for s in segments) or "no runs"
        title = f"{bucket.start:%b %d %H:%M}–{bucket.end:%H:%M} UTC: {parts}"
        columns.append(Column(title, segments))
    return columns, peak


def count_segments(counts: dict[str, int], width: float = 100.0) -> list[Segment]:
    """A horizontal stacked bar of task runs by state type (sized by share of the total)."""
    total = sum(counts.values())
    if not total:
        return []
    x = 0.0
    segments = []
    for state in STACK_ORDER:
        n = counts.get(state, 0)
        if n:
            w = width * n / total
            segments.append(Segment(state.lower(), svg_number(x), "0", svg_number(w), "1", n))
            x += w
    return segments


def counts_title(counts: dict[str, int]) -> str:
    parts = [f"{counts[s]} {s.lower()}" for s in STACK_ORDER if counts.get(s)]
    return ", ".join(parts) or "no task runs"
