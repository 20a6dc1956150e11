"""Claiming dispatches: the worker's threads share requests (`POST /api/claims/`).

A thread about to run a message asks "may I run dispatch N of this run?". Whichever thread
finds no claim request in flight sends every claim waiting by then, so runs that start
together cost one request, and a lone run waits for no timer. The message carries what the
run needs, so the answer is only yes or no.

Messages the worker has reserved but not started yet (Celery prefetches several per thread)
are claimed as soon as they arrive (`ahead`), by a sender thread, together: a busy worker then
claims its queue in a few requests, and a run finds its claim answered when its turn comes.
A worker that stops hands back what it claimed ahead but never started (`release_unstarted`):
the server dispatches those runs again, for any worker.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager

from sdk.workers.api import ApiError, api_client

log = logging.getLogger("sdk.workers")

MAX_CLAIMS = 100  # per request (the server's limit)
PATIENCE = 10.0  # seconds to keep asking about a dispatch the server has "not-yet" (or cannot be reached)


# A claim taken on arrival and older than this when its run's turn comes is confirmed with the server
# first: if the worker went unheard for WORKER_RECENT (60 s) meanwhile, the server may have given the
# run to another worker (orchestrator/housekeeping.py).
CONFIRM_AFTER = 20.0
GATHER = 0.01  # seconds the sender gathers claims of arrivals that no run waits for yet


class _Wanted:
    __slots__ = ("kind", "run_id", "dispatch", "confirm", "outcome", "detail", "answered_at", "soon")

    def __init__(self, kind: str, run_id: str, dispatch: int, confirm: bool = False) -> None:
        self.kind = kind
        self.run_id = run_id
        self.dispatch = dispatch
        self.confirm = confirm
        self.outcome: str | None = None
        self.detail = ""
        self.answered_at = 0.0
        self.soon = True  # a run will wait for the answer at once (claims on arrival: unless all threads are busy)


class Claims:
    def __init__(self, worker_name: str, threads: int = 1) -> None:
        self.worker_name = worker_name
        self.threads = threads  # the worker's threads: runs at once
        self._running = 0
        self._cond = threading.Condition()
        self._waiting: list[_Wanted] = []
        self._sending = False
        self._ahead: dict[tuple[str, str, int], _Wanted] = {}  # claimed on arrival, not started yet
        self._sender: threading.Thread | None = None
        self._needed = 0  # runs waiting for a claim taken on arrival

    @contextmanager
    def running(self):
        """Around a run's execution: while a thread is free, an arriving message starts at once."""
        with self._cond:
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1

    def ahead(self, kind: str, run_id: str, dispatch: int) -> None:
        """A message arrived: claim its dispatch now, with whatever else arrived (never blocks)."""
        key = (kind, run_id, dispatch)
        with self._cond:
            if key in self._ahead:
                return
            wanted = _Wanted(kind, run_id, dispatch)
            wanted.soon = self._running < self.threads  # a free thread starts it now: no gathering
            self._ahead[key] = wanted
            self._waiting.append(wanted)
            if self._sender is None:
                self._sender = threading.Thread(target=self._send_ahead, name="sdk-claims-ahead", daemon=True)
                self._sender.start()
            self._cond.notify_all()

    def _send_ahead(self) -> None:
        """The sender thread: sends waiting claims whenever no request is in flight. While no run
        waits for them (they queue behind running ones), it gathers arrivals for up to GATHER first:
        a busy worker then claims its queue in a few requests, not one per message or two."""
        with self._cond:
            while True:
                while not self._waiting or self._sending:
                    self._cond.wait()
                deadline = time.monotonic() + GATHER
                while (not self._needed and not self._sending and len(self._waiting) < MAX_CLAIMS
                       and not any(w.soon for w in self._waiting)):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._waiting and not self._sending:
                    try:
                        self._send_waiting()
                    except Exception:  # a bug: its claims were answered "error"; keep sending the next ones
                        log.exception("sending claims failed")

    def claim(self, kind: str, run_id: str, dispatch: int) -> bool:
        """True when this worker may run the dispatch (granted once, whoever else asks)."""
        with self._cond:
            wanted = self._ahead.pop((kind, run_id, dispatch), None)
            if wanted is not None and wanted.outcome is None:
                self._needed += 1  # the sender sends at once what a run waits for
                self._cond.notify_all()
                try:
                    while wanted.outcome is None:
                        self._cond.wait()
                finally:
                    self._needed -= 1
        if wanted is not None:
            if wanted.outcome == "claimed" and time.monotonic() - wanted.answered_at > CONFIRM_AFTER:
                wanted = self._ask(_Wanted(kind, run_id, dispatch, confirm=True))
                if wanted.outcome != "claimed":
                    log.info("%s run %s dispatch %s claimed on arrival, no longer ours: %s %s", kind, run_id,
                             dispatch, wanted.outcome, wanted.detail)
                    return False
            if wanted.outcome == "claimed":
                return True
            if wanted.outcome not in ("not-yet", "error"):
                log.info("%s run %s dispatch %s not claimed: %s %s", kind, run_id, dispatch, wanted.outcome, wanted.detail)
                return False
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
                self._send_waiting()
        return wanted

    def _send_waiting(self) -> None:
        """Send what is waiting (called holding the condition, with no request in flight)."""
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

    def release_unstarted(self) -> None:
        """Hand back the dispatches claimed ahead that never started (the worker is stopping)."""
        with self._cond:
            while self._sending or any(w.outcome is None for w in self._ahead.values()):
                if not self._cond.wait(PATIENCE):
                    break
            held = [w for w in self._ahead.values() if w.outcome == "claimed"]
            self._ahead.clear()
        for start in range(0, len(held), MAX_CLAIMS):
            chunk = held[start:start + MAX_CLAIMS]
            body = {"worker": self.worker_name,
                    "release": [{"kind": w.kind, "id": w.run_id, "dispatch": w.dispatch} for w in chunk]}
            try:
                answer = api_client().call("POST", "claims/release/", json=body)
            except Exception as exc:  # the server's housekeeping dispatches them again once we are silent
                log.warning("could not hand back %d run(s) claimed but not started: %s", len(chunk), exc)
                continue
            released = sum(1 for r in answer.get("released", []) if r.get("outcome") == "released")
            log.info("handed back %d run(s) claimed but not started", released)

    def _send(self, batch: list[_Wanted]) -> None:
        body = {"worker": self.worker_name,
                "claims": [{"kind": w.kind, "id": w.run_id, "dispatch": w.dispatch, **({"confirm": True} if w.confirm else {})}
                           for w in batch]}
        outcome, detail = "error", "no answer"
        try:
            answers = api_client().call("POST", "claims/", json=body).get("claims", [])
        except ApiError as exc:
            outcome = "error" if exc.status >= 500 or exc.status == 429 else "refused"
            answers, detail = [], f"{exc.status}: {exc.detail}"
        except Exception as exc:  # the server is unreachable: keep asking, within PATIENCE
            outcome, answers, detail = "error", [], repr(exc)
        now = time.monotonic()
        for index, wanted in enumerate(batch):
            answer = answers[index] if index < len(answers) and isinstance(answers[index], dict) else None
            if answer is None:
                wanted.outcome, wanted.detail = outcome, detail
            else:
                wanted.outcome, wanted.detail = str(answer.get("outcome")), str(answer.get("detail") or "")
            wanted.answered_at = now
