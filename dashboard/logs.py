"""The log panel of the flow-run and task-run pages: the newest lines matching a minimum level and a text."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone as dt_timezone

from django.http import QueryDict

from orchestrator.filters import LogFilter
from orchestrator.models import Log, TaskRun

TAIL = 200  # lines shown; the API pages through the rest
LEVELS = [("", "All levels"), ("DEBUG", "Debug"), ("INFO", "Info"), ("WARNING", "Warning"), ("ERROR", "Error"),
          ("CRITICAL", "Critical")]


@dataclass
class LogPanel:
    lines: list[Log]
    errors: list[str]
    level: str
    q: str
    truncated: bool

    levels = LEVELS


def log_panel(query: QueryDict, **scope) -> LogPanel:
    """Logs of one flow run (`flow_run=id`) or one task run (`task_run=id`), filtered by `level` and `q`."""
    level = query.get("level", "").strip()
    text = query.get("q", "").strip()
    data = {name: str(value) for name, value in scope.items()}
    if level:
        data["level"] = level
    if text:
        data["q"] = text
    filterset = LogFilter(data, queryset=Log.objects.all())
    errors = []
    if not filterset.is_valid():
        labels = {"level": "Level", "q": "Search"}
        errors = [f"{labels.get(name, name)}: {' '.join(messages)}" for name, messages in filterset.errors.items()]
        return LogPanel([], errors, level, text, False)
    lines = filterset.qs.tail(TAIL + 1)
    truncated = len(lines) > TAIL
    lines = lines[-TAIL:]
    names = task_run_names({line.task_run_id for line in lines if line.task_run_id})
    for line in lines:
        # Formatted once here: template filters per line are most of a 200-line panel's render time.
        line.task_run_name = names.get(line.task_run_id)
        line.level_label = line.level_name
        line.level_css = line.level_label.lower()
        line.iso = line.timestamp.isoformat()
        line.clock = line.timestamp.astimezone(dt_timezone.utc).strftime("%H:%M:%S.%f")[:12]
    return LogPanel(lines, errors, level, text, truncated)


def task_run_names(ids: set) -> dict:
    if not ids:
        return {}
    return dict(TaskRun.objects.filter(id__in=ids).values_list("id", "name"))


def matches(line: Log, level: int | None, text: str) -> bool:
    """Whether a line belongs in a panel filtered this way (used for live appends)."""
    return (level is None or line.level >= level) and (not text or text.lower() in line.message.lower())
