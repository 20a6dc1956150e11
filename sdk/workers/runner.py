"""Executing one background run by id: claim it from the server, run it, report it.

The Celery message carries (kind, run id, key, dispatch number) and what the run needs
(name, parameters, attempt count, flow run, tags). Before running, the worker claims that
dispatch (sdk/workers/claims.py: concurrent threads share a request); the server refuses a
stale, duplicate or cancelled one, so a redelivered message never runs a run twice. A
message without the run's fields (from an older server) is claimed the old way, which
hands them out. The run keeps its id; its attempt count goes up.
"""
from __future__ import annotations

import ctypes
import logging
import threading
import time
from typing import Any

from sdk.workers.api import ApiError, api_client
from sdk.workers.claims import Claims
from sdk.workers.engine_bridge import (Crashed, Flow, describe_error, existing_flow_run, existing_task_run,
                                       flush, is_json_result, run_flow_run, run_task_run, store_result)
from sdk.workers.gate import EventGate
from sdk.workers.served import Served

log = logging.getLogger("sdk.workers")

CLAIM_PATIENCE = 10.0  # seconds to wait for the server to commit the dispatch a message announces


class RunCancelled(BaseException):
    """Raised inside a run's thread when the server cancels it (a BaseException: user code's
    `except Exception` does not swallow it)."""


class Runner:
    def __init__(self, served: Served, worker_name: str, gate: EventGate, threads: int = 1) -> None:
        self.served = served
        self.worker_name = worker_name
        self.gate = gate
        self.claims = Claims(worker_name, threads)
        self._executing: dict[str, int] = {}  # run id → thread id
        self._lock = threading.Lock()

    def execute(self, kind: str, run_id: str, key: str, dispatch: int, run: dict | None = None) -> str:
        """Run dispatch `dispatch` of a run; returns what happened ("completed", "not claimed: …")."""
        with self.claims.running():
            return self._execute(kind, run_id, key, dispatch, run)

    def _execute(self, kind: str, run_id: str, key: str, dispatch: int, run: dict | None) -> str:
        target = self.served.lookup(kind, key)
        if target is None:
            log.error("received %s run %s for %r, which this worker does not serve", kind, run_id, key)
            return "not served"
        if isinstance(run, dict):
            claim = run if self.claims.claim(kind, run_id, dispatch) else None
        else:
            claim = self._claim(kind, run_id, dispatch)
        if claim is None:
            return "not claimed"
        self.gate.hold(run_id)
        with self._lock:
            self._executing[run_id] = threading.get_ident()
        state = None
        try:
            state = self._run(kind, target, run_id, claim)
        except RunCancelled:
            log.warning("%s run %s was cancelled", kind, run_id)
            return "cancelled"
        except BaseException as exc:  # the engine reported Crashed already; keep the worker alive
            log.exception("%s run %s crashed: %s", kind, run_id, describe_error(exc))
            if not isinstance(exc, Exception):
                raise
            return "crashed"
        finally:
            with self._lock:
                self._executing.pop(run_id, None)
                alone = not self._executing
            if state is not None and state.is_completed() and not is_json_result(state.data):
                try:
                    store_result(run_id, state.data)
                except Exception as exc:  # the run completed; only its value is lost to waiting futures
                    log.warning("%s run %s: result not stored: %s", kind, run_id, exc)
            self.gate.release(run_id)
            self.gate.forget(run_id)
            # The last run to finish ships now (a waiting future learns of it at once) without waiting
            # for the answer; while other runs go on, the shipping interval (20 ms) gathers their events
            # into one batch instead of a request per run.
            if alone:
                flush(timeout=0)
        return state.name.lower()

    def _run(self, kind: str, target: Any, run_id: str, claim: dict) -> Any:
        parameters = claim.get("parameters") or {}
        run_count = int(claim.get("run_count") or 0)
        if kind == "task":
            run = existing_task_run(target, run_id, claim.get("name", ""), claim.get("flow_run_id"),
                                    claim.get("tags") or [], run_count)
            try:
                bound = target.signature.bind((), parameters)
            except TypeError as exc:
                return run.set_state(Crashed(f"The stored parameters do not fit the task: {exc}", exc))
            return run_task_run(target, run, bound)
        assert isinstance(target, Flow)
        run = existing_flow_run(target, run_id, claim.get("name", ""), parameters, claim.get("tags") or [], run_count)
        try:
            bound = target.signature.bind((), parameters)
        except TypeError as exc:
            return run.set_state(Crashed(f"The stored parameters do not fit the flow: {exc}", exc))
        return run_flow_run(target, run, bound)

    def _claim(self, kind: str, run_id: str, dispatch: int) -> dict | None:
        path = f"{kind}-runs/{run_id}/claim/"
        deadline = time.monotonic() + CLAIM_PATIENCE
        pause = threading.Event()
        delay = 0.004  # the commit is usually a millisecond or two behind the message
        while True:
            try:
                return api_client().call("POST", path, json={"worker": self.worker_name, "dispatch": dispatch})
            except ApiError as exc:
                outcome = exc.body.get("outcome") if isinstance(exc.body, dict) else None
                if outcome != "not-yet" or time.monotonic() > deadline:
                    log.info("%s run %s dispatch %s not claimed: %s", kind, run_id, dispatch, exc.detail)
                    return None
            # "not-yet": the server sends the message just before it commits; give it a moment.
            pause.wait(delay)
            delay = min(delay * 2, 0.5)

    def cancel(self, run_id: str) -> bool:
        """The server cancelled the run: drop its further states and interrupt its thread."""
        self.gate.cancel(run_id)
        with self._lock:
            thread_id = self._executing.get(run_id)
        if thread_id is None:
            return False
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(RunCancelled))
        return True


