"""TaskRunFuture: the handle `.submit()` and `.map()` return; `wait` and `as_completed`."""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple

from sdk.states import State, StateType

if TYPE_CHECKING:
    from sdk.engine.runs import TaskRun
    from sdk.task_runners import ThreadPoolTaskRunner

__all__ = ["TaskRunFuture", "TaskRunFutureList", "wait", "as_completed", "DoneAndNotDoneFutures"]

_callbacks_lock = threading.Lock()
_FINISHED: list = []  # marks "callbacks already run"


class TaskRunFuture:
    """A task run started with `.submit()`/`.map()`; `.result()` waits for it."""

    __slots__ = ("task_run", "_final", "_done", "_callbacks", "_runner", "__weakref__")

    def __init__(self, task_run: TaskRun, runner: ThreadPoolTaskRunner | None = None) -> None:
        self.task_run = task_run
        self._final: State | None = None
        # Held from creation until the run ends; waiters acquire-and-release it.
        self._done: threading.Lock | None = threading.Lock()
        self._done.acquire()
        self._callbacks: list | None = None
        self._runner = runner

    @property
    def task_run_id(self) -> str:
        return self.task_run.id

    @property
    def state(self) -> State:
        """The final state once done, else the run's current state."""
        final = self._final
        return final if final is not None else self.task_run.state  # type: ignore[return-value]

    def done(self) -> bool:
        return self._final is not None

    def wait(self, timeout: float | None = None) -> None:
        """Block until the run is final or `timeout` seconds passed."""
        if self._final is not None:
            return
        runner = self._runner
        gave_up_slot = False
        if runner is not None:
            if timeout is None and runner.run_here_if_pending(self):
                return
            gave_up_slot = runner.before_blocking_wait(self)
        done = self._done
        try:
            if done is not None and done.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
                done.release()
        finally:
            if gave_up_slot:
                runner.after_blocking_wait()  # type: ignore[union-attr]

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> Any:
        """The run's return value; raises its exception (or UpstreamTaskError) if it did not complete."""
        self.wait(timeout)
        final = self._final
        if final is None:
            raise TimeoutError(f"Task run {self.task_run.name!r} did not finish within {timeout} second(s).")
        return final.result(raise_on_failure=raise_on_failure)

    def add_done_callback(self, fn: Callable[[TaskRunFuture], Any]) -> None:
        """Call `fn(future)` once the run is final (at once if it already is)."""
        with _callbacks_lock:
            if self._callbacks is not _FINISHED:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(fn)
                return
        fn(self)

    def set_final(self, state: State) -> None:
        self._final = state
        done, self._done = self._done, None  # waiters from now on see _final; fewer live objects
        self._runner = None
        done.release()
        with _callbacks_lock:
            callbacks, self._callbacks = self._callbacks, _FINISHED
        if callbacks:
            for fn in callbacks:
                try:
                    fn(self)
                except Exception:  # a broken callback must not break the run or other callbacks
                    logging.getLogger("sdk.engine").exception("Error in a future's done callback %r", fn)

    def not_started(self) -> bool:
        state = self.task_run.state
        return self._final is None and (state is None or state.type is StateType.PENDING)

    def __repr__(self) -> str:
        return f"TaskRunFuture(task_run={self.task_run.name!r}, state={self.state})"


class TaskRunFutureList(list):
    """What `.map()` returns: a list of futures with `.wait()` and `.result()` for all of them."""

    def wait(self, timeout: float | None = None) -> None:
        wait(self, timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        return [f.result(_remaining(deadline), raise_on_failure) for f in self]


class DoneAndNotDoneFutures(NamedTuple):
    done: set
    not_done: set


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def wait(futures: Iterable[TaskRunFuture], timeout: float | None = None) -> DoneAndNotDoneFutures:
    """Wait until every future is done or `timeout` passed; return (done, not_done) sets."""
    futures = list(futures)
    deadline = None if timeout is None else time.monotonic() + timeout
    for future in futures:
        if deadline is not None and deadline <= time.monotonic():
            break
        future.wait(_remaining(deadline))
    done = {f for f in futures if f.done()}
    return DoneAndNotDoneFutures(done, {f for f in futures if not f.done()})


def as_completed(futures: Iterable[TaskRunFuture], timeout: float | None = None) -> Iterator[TaskRunFuture]:
    """Yield futures as they finish; TimeoutError if `timeout` passes first."""
    pending = list(dict.fromkeys(futures))
    finished: queue.SimpleQueue[TaskRunFuture] = queue.SimpleQueue()
    for future in pending:
        future.add_done_callback(finished.put)
    deadline = None if timeout is None else time.monotonic() + timeout
    for _ in range(len(pending)):
        try:
            yield finished.get(timeout=_remaining(deadline))
        except queue.Empty:
            raise TimeoutError(f"{len(pending)} futures did not all finish within {timeout} second(s).") from None
