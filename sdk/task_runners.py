"""Where `.submit()` and `.map()` run: a thread pool per flow run.

Workers are started on demand: a submitted job goes to an idle worker if
one is free, else to a new thread while fewer than `max_workers` exist.

`max_workers=n` bounds the task bodies running at once, whichever thread runs
them: a thread holds one of `n` slots while it runs a job, and gives it back
while it blocks waiting for another run. With `max_workers=None` only the
threads are capped (at 32) and nothing needs serialising, so slots are not kept.

A thread that waits (without a timeout) for a run that has not started yet
runs it itself instead of sleeping, when a slot is free (or it holds one
already): that saves two thread switches per task in the common
submit-then-result pattern and means a task waiting for a task it submitted
never deadlocks the pool. A worker that must block on an unstarted run gets
a stand-in thread, which runs once the waiting worker's slot is free.
"""
from __future__ import annotations

import _thread
import logging
import threading
from queue import SimpleQueue
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from sdk.futures import TaskRunFuture

__all__ = ["ThreadPoolTaskRunner", "DEFAULT_MAX_WORKERS"]

# Prefect's default is one thread per concurrent task; a bound keeps 10,000 tiny
# tasks from spawning 10,000 threads while still running I/O-bound work widely.
DEFAULT_MAX_WORKERS = 32

_local = threading.local()
_MAX_INLINE_DEPTH = 4  # runs executed inside a wait, nested: bounds the stack

log = logging.getLogger("sdk.engine")


def _slots_held() -> set[ThreadPoolTaskRunner]:
    """The runners whose slot this thread holds (it is running one of their jobs)."""
    try:
        return _local.slots_held
    except AttributeError:
        _local.slots_held = held = set()
        return held


class ThreadPoolTaskRunner:
    """Runs submitted task runs on up to `max_workers` threads (default 32); when
    `max_workers` is given, at most that many task bodies run at once."""

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and (type(max_workers) is not int or max_workers < 1):
            raise ValueError(f"max_workers must be a positive int or None, got {max_workers!r}")
        self.max_workers = max_workers
        self._cap = max_workers or DEFAULT_MAX_WORKERS
        self._jobs: SimpleQueue[object] = SimpleQueue()
        self._pending: dict[object, Callable[[], None]] = {}  # key -> job, until a thread claims it
        self._lock = threading.Lock()
        self._threads = 0
        self._idle_workers = 0  # workers done with a job and not yet promised another
        self._outstanding = 0
        self._all_done = threading.Event()
        self._all_done.set()
        self._bounded = max_workers is not None  # the user asked for at most n bodies at once
        self._busy = 0  # slots taken: task bodies running now
        self._slot_waiters = 0
        self._slot_freed = threading.Condition(threading.Lock())

    def duplicate(self) -> ThreadPoolTaskRunner:
        """A fresh runner with the same settings (each flow run gets its own)."""
        return type(self)(self.max_workers)

    def submit_job(self, key: object, job: Callable[[], None]) -> None:
        """Run `job()` on a worker thread (or in a thread waiting for `key`). `job` must not raise."""
        self._pending[key] = job
        with self._lock:
            self._outstanding += 1
            if self._outstanding == 1:
                self._all_done.clear()
            if self._idle_workers:
                self._idle_workers -= 1
                spawn = False
            else:
                spawn = self._threads < self._cap
                if spawn:
                    self._threads += 1
        self._jobs.put(key)
        if spawn:
            self._start_thread()

    def wait_for_all(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has finished; False if `timeout` passed first."""
        return self._all_done.wait(timeout)

    def run_here_if_pending(self, key: object) -> bool:
        """Run the job for `key` in this thread if no thread has claimed it yet and a slot is free."""
        depth = getattr(_local, "inline_depth", 0)
        if depth >= _MAX_INLINE_DEPTH:
            return False
        held = _slots_held() if self._bounded else None
        own_slot = held is not None and self not in held
        if own_slot and not self._take_slot(blocking=False):
            return False  # max_workers bodies are running: the job waits for one of them
        job = self._pending.pop(key, None)  # dict.pop is atomic: one claimer wins
        if job is None:
            if own_slot:
                self._give_back_slot()
            return False
        _local.inline_depth = depth + 1
        if own_slot:
            held.add(self)  # type: ignore[union-attr]
        try:
            self._run(job)
        finally:
            _local.inline_depth = depth
            if own_slot:
                held.discard(self)  # type: ignore[union-attr]
                self._give_back_slot()
        return True

    def before_blocking_wait(self, future: TaskRunFuture) -> bool:
        """This thread is about to block on `future`: give back its slot while it waits (True if
        it did; call `after_blocking_wait` then)."""
        # A worker about to block on a run that has not started: the run may be
        # queued behind the worker's own job, so add a stand-in worker.
        if getattr(_local, "runner", None) is self and future.not_started():
            with self._lock:
                self._threads += 1
            self._start_thread()
        if not self._bounded:
            return False
        held = _slots_held()
        if self not in held:
            return False
        held.discard(self)
        self._give_back_slot()
        return True

    def after_blocking_wait(self) -> None:
        self._take_slot(blocking=True)
        _slots_held().add(self)

    def shutdown(self) -> None:
        """Let the worker threads exit once the queue is drained."""
        with self._lock:
            count, self._threads, self._idle_workers = self._threads, 0, 0
        for _ in range(count):
            self._jobs.put(None)

    def __enter__(self) -> ThreadPoolTaskRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wait_for_all()
        self.shutdown()

    def __repr__(self) -> str:
        return f"ThreadPoolTaskRunner(max_workers={self.max_workers})"

    def _take_slot(self, blocking: bool) -> bool:
        with self._lock:
            if self._busy < self._cap:
                self._busy += 1
                return True
            if not blocking:
                return False
            self._slot_waiters += 1
        with self._slot_freed:  # rare: only while inline runs hold slots
            while True:
                with self._lock:
                    if self._busy < self._cap:
                        self._busy += 1
                        self._slot_waiters -= 1
                        return True
                self._slot_freed.wait(1.0)

    def _give_back_slot(self) -> None:
        with self._lock:
            self._busy -= 1
            waiters = self._slot_waiters
        if waiters:
            with self._slot_freed:
                self._slot_freed.notify()

    def _start_thread(self) -> None:
        # Not threading.Thread: its start() waits until the new thread runs, which
        # on a busy machine costs far more than the tasks themselves. These
        # threads are daemonic, like threading's daemon threads.
        _thread.start_new_thread(self._work, ())

    def _run(self, job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException:  # jobs catch their own errors; this is a last resort
            log.exception("A task runner job raised")
        with self._lock:
            self._outstanding -= 1
            if self._outstanding == 0:
                self._all_done.set()

    def _work(self) -> None:
        _local.runner = self
        held = _slots_held()
        get = self._jobs.get
        claim = self._pending.pop
        lock = self._lock
        while True:
            key = get()
            if key is None:
                return
            job = claim(key, None)
            if job is None:  # a waiting thread already ran it
                pass
            elif not self._bounded:
                self._run(job)
            else:
                self._take_slot(blocking=True)
                held.add(self)
                try:
                    self._run(job)
                finally:
                    held.discard(self)
                    self._give_back_slot()
            with lock:
                self._idle_workers += 1
