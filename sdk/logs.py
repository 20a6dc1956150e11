"""Run logging: `get_run_logger()`, `log_prints`, and the console lines the engine writes.

Loggers live under `sdk` (`sdk.flow_runs`, `sdk.task_runs`, `sdk.engine`) and
do not propagate to the root logger. Two handlers sit on `sdk`:

- the console handler writes Prefect-style lines to stderr:
  `10:00:00.123 | INFO    | Flow run 'crimson-otter' - Finished in state Completed()`;
- the event handler turns every record bound to a run into a `log` event.

The level comes from `ORCHESTRATOR_LOGGING_LEVEL` (default INFO), or set it
with `logging.getLogger("sdk").setLevel(...)`. Records made from `print()`
under `log_prints` become events but skip the console, because the text
already went to stdout. Engine lines about task runs are console-only: the
task's state events already carry what they say.
"""
from __future__ import annotations

import builtins
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any, MutableMapping

from sdk import events
from sdk.context import innermost_run, task_run_var
from sdk.exceptions import MissingContextError
from sdk.engine.errors import user_traceback
from sdk.engine.runs import FlowRun, TaskRun
from sdk.engine.stamps import iso_from_epoch, new_id

if TYPE_CHECKING:
    from sdk.states import State

__all__ = ["get_run_logger", "RunLogger", "enable_print_logging"]

sdk_logger = logging.getLogger("sdk")
flow_run_logger = logging.getLogger("sdk.flow_runs")
task_run_logger = logging.getLogger("sdk.task_runs")
engine_logger = logging.getLogger("sdk.engine")


class ConsoleFormatter(logging.Formatter):
    _clock: tuple[int, str] = (-1, "")  # (second, "HH:MM:SS") of the last line

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        cached_second, clock = self._clock
        if second != cached_second:
            clock = time.strftime("%H:%M:%S", time.localtime(second))
            ConsoleFormatter._clock = (second, clock)
        label = getattr(record, "run_label", None) or record.name
        line = f"{clock}.{int(record.msecs):03d} | {record.levelname:<7} | {label} - {record.getMessage()}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


class ConsoleHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (so redirection and capture work)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(ConsoleFormatter())

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "from_print", False) and super().filter(record)


MAX_MESSAGE_CHARS = 256 * 1024


class EventHandler(logging.Handler):
    """Turns records bound to a run into `log` events (docs/events.md)."""

    def emit(self, record: logging.LogRecord) -> None:
        run = getattr(record, "run", None)
        if run is None or getattr(record, "console_only", False):
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message = f"{message}\n{ConsoleFormatter().formatException(record.exc_info)}"
            if len(message) > MAX_MESSAGE_CHARS:  # the server takes up to 1 MiB of UTF-8
                message = message[:MAX_MESSAGE_CHARS] + "…"
            task_run_id = run.id if type(run) is TaskRun else None
            events.emit({
                "id": new_id(),
                "type": "log",
                "occurred": iso_from_epoch(record.created),
                "seq": run.next_seq(),
                "flow_run_id": run.flow_run_id if task_run_id else run.id,
                "task_run_id": task_run_id,
                "level": record.levelno,
                "logger": record.name,
                "message": message,
            })
        except Exception:
            self.handleError(record)


def _level_from_environment() -> int:
    text = os.environ.get("ORCHESTRATOR_LOGGING_LEVEL", "INFO").strip().upper()
    level = int(text) if text.isdigit() else logging.getLevelName(text)
    return level if isinstance(level, int) else logging.INFO  # an unknown name: keep the default


def _configure() -> None:
    if getattr(sdk_logger, "_sdk_configured", False):
        return
    sdk_logger.setLevel(_level_from_environment())
    sdk_logger.propagate = False
    sdk_logger.addHandler(ConsoleHandler())
    sdk_logger.addHandler(EventHandler())
    sdk_logger._sdk_configured = True  # type: ignore[attr-defined]


_configure()


class RunLogger(logging.LoggerAdapter):
    """A logger bound to one run: its records go to the console and become `log` events."""

    def __init__(self, logger: logging.Logger, run: FlowRun | TaskRun, extra: dict[str, Any] | None = None) -> None:
        super().__init__(logger, {**(extra or {}), "run": run, "run_label": run.label})

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**kwargs.get("extra", {}), **self.extra}  # type: ignore[dict-item]
        return msg, kwargs


def get_run_logger(**extra: Any) -> RunLogger:
    """The logger of the innermost flow or task run; MissingContextError outside any run."""
    task_ctx = task_run_var.get()
    if task_ctx is not None:
        return RunLogger(task_run_logger, task_ctx.task_run, extra)
    ctx = innermost_run()
    if ctx is None:
        raise MissingContextError(
            "There is no active flow or task run: get_run_logger() only works inside a @flow or @task "
            "(use logging.getLogger(...) elsewhere)."
        )
    return RunLogger(flow_run_logger, ctx.flow_run, extra)  # type: ignore[union-attr]


# -- log_prints ----------------------------------------------------------------------------

_builtin_print = builtins.print


def _print(*args: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False) -> None:
    _builtin_print(*args, sep=sep, end=end, file=file, flush=flush)
    if file is not None and file is not sys.stdout:
        return
    ctx = innermost_run()
    if ctx is None or not ctx.log_prints:
        return
    run = ctx.task_run if task_run_var.get() is ctx else ctx.flow_run  # type: ignore[union-attr]
    message = (" " if sep is None else sep).join(str(a) for a in args)
    logger = task_run_logger if type(run) is TaskRun else flow_run_logger
    logger.info(message, extra={"run": run, "run_label": run.label, "from_print": True})


def effective_log_prints(own: bool | None) -> bool:
    """A run's `log_prints`: its own setting, else the enclosing run's (inherited flow → task)."""
    if own is None:
        outer = innermost_run()
        return outer.log_prints if outer is not None else False
    if own:
        enable_print_logging()
    return own


def enable_print_logging() -> None:
    """Route `print()` through the run logger when a run has `log_prints` on (installed once)."""
    if builtins.print is not _print:
        builtins.print = _print


# -- engine lines --------------------------------------------------------------------------

_INFO = logging.INFO


def flow_run_created(run: FlowRun) -> None:
    if engine_logger.isEnabledFor(_INFO):
        engine_logger.info("Created flow run %r for flow %r", run.name, run.flow_name)


def flow_run_finished(run: FlowRun, state: State) -> None:
    level = _INFO if state.is_completed() else logging.ERROR
    if flow_run_logger.isEnabledFor(level):
        flow_run_logger.log(level, "Finished in state %s", state, extra={"run": run, "run_label": run.label})


def task_run_finished(run: TaskRun, state: State) -> None:
    level = _INFO if state.is_completed() else logging.ERROR
    if task_run_logger.isEnabledFor(level):
        # One line per task run: build the record directly (no caller lookup) to keep it cheap.
        record = task_run_logger.makeRecord(
            task_run_logger.name, level, __file__, 0, "Finished in state %s", (state,), None,
            extra={"run": run, "run_label": run.label, "console_only": True})
        task_run_logger.handle(record)


def _failure_logger(run: FlowRun | TaskRun) -> tuple[str, logging.Logger]:
    return ("Task", task_run_logger) if type(run) is TaskRun else ("Flow", flow_run_logger)


def attempt_will_be_retried(run: FlowRun | TaskRun, error: BaseException | None, *, retries: int, delay: float) -> None:
    """One line per failed attempt that is retried."""
    kind, logger = _failure_logger(run)
    if logger.isEnabledFor(logging.WARNING):
        logger.warning("%s run failed with exception: %r - Retry %d/%d will start %g second(s) from now",
                       kind, error, run.run_count, retries, delay, extra={"run": run, "run_label": run.label})


def run_failed(run: FlowRun | TaskRun, error: BaseException, *, retries_exhausted: bool = False) -> None:
    """The final failure, with the traceback (shipped as a log too)."""
    kind, logger = _failure_logger(run)
    if logger.isEnabledFor(logging.ERROR):
        tail = " - Retries are exhausted" if retries_exhausted else ""
        logger.error("%s run failed with exception: %r%s", kind, error, tail,
                     exc_info=(type(error), error, user_traceback(error)), extra={"run": run, "run_label": run.label})
