"""Loggers by Prefect's names (`prefect.logging.loggers`): for the current run, for a run you
hold (a state hook gets one), and `disable_run_logger()` for calling a task's `.fn` in tests."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Iterator

from sdk import logs
from sdk.logs import RunLogger, get_run_logger

__all__ = ["get_run_logger", "get_logger", "flow_run_logger", "task_run_logger", "disable_run_logger"]


def get_logger(name: str | None = None) -> logging.Logger:
    """A logger under `sdk` (console only, not tied to a run): `get_logger("my.module")`."""
    return logs.sdk_logger if not name else logs.sdk_logger.getChild(name)


def flow_run_logger(flow_run: Any, flow: Any = None, **extra: Any) -> RunLogger:
    """A logger for `flow_run` (the run a flow hook receives): its lines are the run's logs."""
    if flow is not None:
        extra.setdefault("flow_name", getattr(flow, "name", None))
    return RunLogger(logs.flow_run_logger, flow_run, extra)


def task_run_logger(task_run: Any, task: Any = None, flow_run: Any = None, flow: Any = None,
                    **extra: Any) -> RunLogger:
    """A logger for `task_run` (the run a task hook receives): its lines are the run's logs."""
    if task is not None:
        extra.setdefault("task_name", getattr(task, "name", None))
    return RunLogger(logs.task_run_logger, task_run, extra)


@contextmanager
def disable_run_logger() -> Iterator[None]:
    """Inside the block run loggers write nothing, and `get_run_logger()` outside a run returns a
    silent logger instead of raising: call a task's `.fn` directly in a unit test."""
    loggers = (logs.flow_run_logger, logs.task_run_logger)
    before = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        yield
    finally:
        for logger, was in zip(loggers, before):
            logger.disabled = was
