"""How reporting problems reach the user: once per kind of problem, on the logger of
the run that is emitting, else on the `sdk.shipping` logger.

The shipping thread notices problems but runs outside every run, so it only
records them here; the sink's next emit in a user thread (inside the run) logs
them. What no run picks up within a second is logged by the thread itself.
"""
from __future__ import annotations

import logging
import time

from sdk.exceptions import MissingContextError
from sdk.logs import get_run_logger

LATEST_HAND_OVER = 1.0  # seconds a warning waits for a run to log it


class ProblemWarnings:
    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._warned: set[str] = set()
        self._pending: list[tuple[float, str]] = []  # (deadline, text) not yet on a logger

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def add(self, problem: str, text: str) -> bool:
        """Record a problem; True if it is a new kind (and so will be logged)."""
        if problem in self._warned:
            return False
        self._warned.add(problem)
        self._pending.append((time.monotonic() + LATEST_HAND_OVER, text))
        return True

    def clear(self) -> None:
        """The server took events again: a later problem is news again."""
        self._warned.clear()

    def deliver(self, in_user_thread: bool, force: bool = False) -> None:
        now = time.monotonic()
        while self._pending:
            deadline, text = self._pending[0]
            if not (in_user_thread or force) and now < deadline:
                return
            try:
                self._pending.pop(0)
            except IndexError:
                return
            run_logger = _current_run_logger() if in_user_thread else None
            if run_logger is not None:
                run_logger.warning("Reporting to the server: %s", text)
            else:
                self.logger.warning(text)


def _current_run_logger():
    try:
        return get_run_logger()
    except MissingContextError:
        return None
