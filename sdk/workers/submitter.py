"""Sending `.delay()` runs to the server in batches, from a background thread.

`.delay()` checks its parameters and returns at once; this thread posts what has
queued up (`POST /api/task-runs/` with `{"runs": [...]}`, up to BATCH runs a request),
so submitting a thousand runs costs a few requests, not a thousand. A run the server
refuses (or cannot be reached for RETRY_FOR seconds) fails its future: `.result()` raises
the reason. At interpreter exit the queue is sent within EXIT_TIMEOUT seconds.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from typing import Any

from sdk.workers.api import ApiError, api_client

log = logging.getLogger("sdk.workers")

BATCH = 500
RETRY_FOR = 30.0
EXIT_TIMEOUT = 10.0


class Submitter:
    def __init__(self) -> None:
        self._queue: deque[tuple[dict, Any]] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None

    def submit(self, body: dict, future: Any) -> None:
        with self._cond:
            self._queue.append((body, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sdk-delay-submitter", daemon=True)
                self._thread.start()
            self._cond.notify()

    def drain(self, timeout: float) -> bool:
        """Wait until everything submitted so far was sent (or failed); False if `timeout` passed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
                self._busy = True
            try:
                self._send(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _send(self, batch: list[tuple[dict, Any]]) -> None:
        deadline = time.monotonic() + RETRY_FOR
        pause = 0.1
        while True:
            try:
                answer = api_client().call("POST", "task-runs/", json={"runs": [body for body, _ in batch]})
                break
            except ApiError as exc:
                if exc.status < 500 and exc.status != 429 or time.monotonic() > deadline:
                    self._fail(batch, exc)
                    return
                error: Exception = exc
            except Exception as exc:  # unreachable: try again for a while, then fail the runs
                if time.monotonic() > deadline:
                    self._fail(batch, exc)
                    return
                error = exc
            log.warning("could not submit %d background run(s) yet (%s); retrying", len(batch), error)
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
        for (_, future), result in zip(batch, answer.get("runs", [])):
            if result.get("status") in (200, 201):
                future._created(None)
            else:
                future._created(ApiError(result.get("status", 0), str(result.get("error", "refused")), result))

    @staticmethod
    def _fail(batch: list[tuple[dict, Any]], error: Exception) -> None:
        log.warning("%d background run(s) could not be submitted: %s", len(batch), error)
        for _, future in batch:
            future._created(error)


_submitter: Submitter | None = None
_lock = threading.Lock()


def submitter() -> Submitter:
    global _submitter
    with _lock:
        if _submitter is None:
            _submitter = Submitter()
            atexit.register(_submitter.drain, EXIT_TIMEOUT)
        return _submitter


def _forget() -> None:
    global _submitter
    _submitter = None  # its thread did not survive the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)
