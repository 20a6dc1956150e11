"""Claiming dispatches: the worker's threads share requests (`POST /api/claims/`).

A thread about to run a message asks "may I run dispatch N of this run?". Whichever thread
finds no claim request in flight sends every claim waiting by then, so runs that start
together cost one request, and a lone run waits for no timer. The message carries what the
run needs, so the answer is only yes or no.
"""
from __future__ import annotations

import logging
import threading
import time

from sdk.workers.api import ApiError, api_client

log = logging.getLogger("sdk.workers")

MAX_CLAIMS = 100  # per request (the server's limit)
PATIENCE = 10.0  # seconds to keep asking about a dispatch the server has "not-yet" (or cannot be reached)


class _Wanted:
    __slots__ = ("kind", "run_id", "dispatch", "outcome", "detail")

    def __init__(self, kind: str, run_id: str, dispatch: int) -> None:
        self.kind = kind
        self.run_id = run_id
        self.dispatch = dispatch
        self.outcome: str | None = None
        self.detail = ""


class Claims:
    def __init__(self, worker_name: str) -> None:
        self.worker_name = worker_name
        self._cond = threading.Condition()
        self._waiting: list[_Wanted] = []
        self._sending = False

    def claim(self, kind: str, run_id: str, dispatch: int) -> bool:
        """True when this worker may run the dispatch (granted once, whoever else asks)."""
        deadline = time.monotonic() + PATIENCE
        pause = 0.004  # "not-yet": the server has not committed the dispatch yet; it soon will
        while True:
            wanted = self._ask(_Wanted(kind, run_id, dispatch))
            if wanted.outcome == "claimed":
                return True
            if wanted.outcome not in ("not-yet", "error") or time.monotonic() > deadline:
                log.info("%s run %s dispatch %s not claimed: %s %s", kind, run_id, dispatch, wanted.outcome, wanted.detail)
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def _ask(self, wanted: _Wanted) -> _Wanted:
        with self._cond:
            self._waiting.append(wanted)
            while wanted.outcome is None:
                if self._sending:
                    self._cond.wait()
                    continue
                self._sending = True
                batch, self._waiting = self._waiting[:MAX_CLAIMS], self._waiting[MAX_CLAIMS:]
                self._cond.release()
                try:
                    self._send(batch)
                finally:
                    for other in batch:  # a send cut short (an interrupt): its waiters must not wait forever
                        if other.outcome is None:
                            other.outcome, other.detail = "error", "interrupted"
                    self._cond.acquire()
                    self._sending = False
                    self._cond.notify_all()
        return wanted

    def _send(self, batch: list[_Wanted]) -> None:
        body = {"worker": self.worker_name,
                "claims": [{"kind": w.kind, "id": w.run_id, "dispatch": w.dispatch} for w in batch]}
        outcome, detail = "error", "no answer"
        try:
            answers = api_client().call("POST", "claims/", json=body).get("claims", [])
        except ApiError as exc:
            outcome = "error" if exc.status >= 500 or exc.status == 429 else "refused"
            answers, detail = [], f"{exc.status}: {exc.detail}"
        except Exception as exc:  # the server is unreachable: keep asking, within PATIENCE
            outcome, answers, detail = "error", [], repr(exc)
        for index, wanted in enumerate(batch):
            answer = answers[index] if index < len(answers) and isinstance(answers[index], dict) else None
            if answer is None:
                wanted.outcome, wanted.detail = outcome, detail
            else:
                wanted.outcome, wanted.detail = str(answer.get("outcome")), str(answer.get("detail") or "")
