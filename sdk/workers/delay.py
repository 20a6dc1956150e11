"""`Task.delay()`: a background run, executed by a task worker; and its future.

The run is created on the server (`POST /api/task-runs/`, state Scheduled) with its
parameters as JSON, by a background sender that batches runs (sdk/workers/submitter.py);
the server enqueues each for the task's key. A future waits with a long poll
(`POST /api/task-runs/wait/`), which answers as soon as its run is final and also
brings back the other runs of this process that are final by then. JSON results come
back with the final state, others from the result store the worker wrote them to
(same ORCHESTRATOR_HOME). A run the server refused raises the reason from `.result()`.
"""
from __future__ import annotations

import builtins
import itertools
import math
import threading
import time
import uuid
import weakref
from typing import Any, Callable

from sdk.futures import TaskRunFuture
from sdk.states import State, StateType

__all__ = ["delay", "BackgroundRunFuture", "ParametersNotJSON", "BackgroundRunError"]

MAX_POLL = 30.0  # seconds one long poll may wait on the server


class ParametersNotJSON(TypeError):
    """A `.delay()` parameter cannot be stored as JSON, so no worker could receive it."""


class BackgroundRunError(Exception):
    """A background run failed with an exception that is not a built-in one (its type is in the message)."""


def _json_problem(value: Any, depth: int = 0) -> str | None:
    """Why `value` is not plain JSON data (None when it is)."""
    t = type(value)
    if value is None or t is bool or t is int or t is str:
        return None
    if t is float:
        return None if math.isfinite(value) else f"{value!r} is not a finite number"
    if depth > 64:
        return "it is nested too deeply"
    if t is list or t is tuple:
        for item in value:
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if t is dict:
        for key, item in value.items():
            if type(key) is not str:
                return f"it has a {type(key).__name__} key {key!r} (JSON keys are strings)"
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return f"a {t.__module__}.{t.__qualname__} is not JSON data"


def check_parameters(task_name: str, parameters: dict[str, Any]) -> None:
    for name, value in parameters.items():
        problem = _json_problem(value)
        if problem:
            raise ParametersNotJSON(
                f"{task_name}.delay(): parameter {name!r} cannot be stored as JSON ({problem}). A background "
                "run gets its parameters from the server: pass str, int, float, bool, None, lists and dicts "
                "with string keys (store anything else yourself and pass its path or id)."
            )


def delay(task: Any, args: tuple, kwargs: dict) -> "BackgroundRunFuture":
    from sdk.workers.api import api_client
    from sdk.workers.engine_bridge import background_context

    from sdk.workers.submitter import submitter

    parameters = task.signature.bind(args, kwargs)
    check_parameters(task.name, parameters)
    api_client()  # raises at once when ORCHESTRATOR_API_URL is not set
    run_id = str(uuid.uuid4())
    name = task.run_name(parameters)
    flow_run_id, parent_task_run_id, tags = background_context(task)
    future = BackgroundRunFuture(run_id, name)
    submitter().submit({
        "id": run_id, "task_key": task.task_key, "task_name": task.name, "name": name,
        "parameters": parameters, "tags": list(tags), "flow_run_id": flow_run_id,
        "parent_task_run_id": parent_task_run_id,
    }, future)
    return future


class _RemoteRun:
    """What the future knows of its run: `id`, `name`, `state` (as last seen)."""

    __slots__ = ("id", "name", "state", "run_count")

    def __init__(self, run_id: str, name: str) -> None:
        self.id = run_id
        self.name = name
        self.state: State = State(StateType.SCHEDULED, "Scheduled")
        self.run_count = 0


_unfinished: "weakref.WeakValueDictionary[str, BackgroundRunFuture]" = weakref.WeakValueDictionary()
# Other runs one long poll may bring back: the oldest unfinished ones, which finish next when runs are
# collected in order. A poll answers when its own run is final, usually with a few others; each id
# listed costs the server a read, so listing a thousand made polls the dearest requests of `.delay()`.
MAX_PIGGYBACK = 100


class BackgroundRunFuture(TaskRunFuture):
    """The future of a `.delay()` run: `.result(timeout=...)`, `.wait()`, `.state`, `.task_run_id`."""

    __slots__ = ("_finishing", "_watcher", "_submitted", "_submit_error")

    def __init__(self, run_id: str, name: str) -> None:
        super().__init__(_RemoteRun(run_id, name))  # type: ignore[arg-type]
        self._finishing = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._submitted = threading.Event()
        self._submit_error: BaseException | None = None
        _unfinished[run_id] = self

    @classmethod
    def of_existing(cls, run_id: str, name: str = "") -> "BackgroundRunFuture":
        """A future for a background run created elsewhere (e.g. by another process)."""
        future = cls(run_id, name)
        future._created(None)
        return future

    def _created(self, error: BaseException | None) -> None:
        """Called by the submitter once the server took the run (or refused it)."""
        self._submit_error = error
        self._submitted.set()

    def wait(self, timeout: float | None = None) -> None:
        from sdk.workers.api import ApiError, api_client

        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._submitted.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
            return
        if self._submit_error is not None:
            raise self._submit_error
        pause = threading.Event()
        run_id = self.task_run.id
        while self._final is None:
            remaining = MAX_POLL if deadline is None else min(MAX_POLL, deadline - time.monotonic())
            if remaining <= 0:
                return
            others = [i for i in itertools.islice(list(_unfinished.keys()), MAX_PIGGYBACK + 1) if i != run_id][:MAX_PIGGYBACK]
            try:
                answer = api_client().call("POST", "task-runs/wait/",
                                           json={"ids": [run_id, *others], "timeout": round(remaining, 3)})
            except ApiError as exc:
                if exc.status < 500 and exc.status != 429:
                    raise
                pause.wait(min(1.0, max(0.0, remaining)))  # the server is struggling: do not hammer it
                continue
            except Exception:  # the server is unreachable: try again shortly, within the caller's timeout
                pause.wait(min(1.0, max(0.0, remaining)))
                continue
            for run in answer.get("runs", []):
                future = self if run.get("id") == run_id else _unfinished.get(run.get("id"))
                if future is not None:
                    future._seen(run)

    def _seen(self, answer: dict) -> None:
        run = self.task_run
        state = answer.get("state")
        run.run_count = answer.get("run_count", run.run_count)
        if not state:
            return
        if not answer.get("final"):
            run.state = State(StateType(state["type"]), state["name"], state.get("message") or None)
            return
        final = State(StateType(state["type"]), state["name"], state.get("message") or None, _data_of(answer))
        final.task_run_id = run.id
        with self._finishing:
            if self._final is None:
                run.state = final
                _unfinished.pop(run.id, None)
                self.set_final(final)

    def add_done_callback(self, fn: Callable[[TaskRunFuture], Any]) -> None:
        super().add_done_callback(fn)
        with self._finishing:
            if self._final is None and self._watcher is None:
                self._watcher = threading.Thread(target=self.wait, name="sdk-delay-watcher", daemon=True)
                self._watcher.start()

    def __repr__(self) -> str:
        return f"BackgroundRunFuture(task_run={self.task_run.name!r}, state={self.state})"


def _data_of(answer: dict) -> Any:
    state_type = answer["state"]["type"]
    if state_type == "COMPLETED":
        value = answer.get("result")
        if value is None:  # a result that is not JSON travels through the result store
            from sdk.workers.engine_bridge import read_result

            found, stored = read_result(answer["id"])
            if found:
                return stored
        return value
    error = answer.get("error")
    if isinstance(error, dict):
        return remote_error(error)
    return None


def remote_error(error: dict) -> BaseException:
    """The exception a failed background run raised, rebuilt from its description (never unpickled):
    built-in and SDK exception types are rebuilt as themselves, others as BackgroundRunError."""
    from sdk import exceptions as sdk_exceptions

    type_name = str(error.get("type") or "Exception")
    message = str(error.get("message") or "")
    cls = getattr(builtins, type_name, None) or getattr(sdk_exceptions, type_name, None)
    exc: BaseException | None = None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            exc = cls(message)
        except Exception:
            exc = None
    if exc is None:
        exc = BackgroundRunError(f"{type_name}: {message}" if message else type_name)
    traceback_text = error.get("traceback")
    if traceback_text:
        exc.add_note(f"Raised in a background run, on a task worker:\n{traceback_text}")
    return exc
