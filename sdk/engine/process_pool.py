"""`ProcessPoolTaskRunner`: submitted task bodies run in worker processes, for CPU-bound work.

The run itself stays in this process: each submitted run is orchestrated on a
thread of the (inherited) thread pool runner, so states, retries, caching, hooks
and every event are handled and emitted here exactly as for threads; only the
call of the task's function crosses to a worker process. The worker process
sets up a task run context with the run's id and name, so `get_run_logger()` and
`log_prints` work inside the body; the events it makes (log lines, runs started by
the body) come back with the result and are emitted here, the run's own numbered
in its sequence.

Worker processes are started with the "spawn" method (safe with threads; the
same on every platform): a script that uses this runner must start its flow
under `if __name__ == "__main__":`. Task functions, their arguments, results and
exceptions cross with pickle: a task defined at module level is found by name in
the worker; arguments and results must be picklable.
"""
from __future__ import annotations

import importlib
import multiprocessing
import os
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from sdk.engine.task_engine import body_executor_var, note_remote_bodies_used
from sdk.task_runners import ThreadPoolTaskRunner

__all__ = ["ProcessPoolTaskRunner"]


class ProcessPoolTaskRunner(ThreadPoolTaskRunner):
    """Runs submitted task bodies in up to `max_workers` processes (default: the CPU count);
    `initializer(*initargs)` runs once in each worker process as it starts."""

    def __init__(self, max_workers: int | None = None, initializer: Callable[..., Any] | None = None,
                 initargs: tuple = ()) -> None:
        super().__init__(max_workers)
        if initializer is not None and not callable(initializer):
            raise TypeError(f"initializer must be callable, got {initializer!r}")
        self.initializer = initializer
        self.initargs = tuple(initargs)
        self._processes = max_workers or os.cpu_count() or 1
        self._cap = self._processes  # one orchestrating thread per process is enough
        self._executor: ProcessPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        note_remote_bodies_used()

    def duplicate(self) -> ProcessPoolTaskRunner:
        return type(self)(self.max_workers, self.initializer, self.initargs)

    def submit_job(self, key: object, job: Callable[[], None]) -> None:
        context = getattr(job, "context", None)
        if context is not None:  # the submitted run's own context: its body goes to a process
            context.run(body_executor_var.set, self)
        super().submit_job(key, job)

    def _pool(self) -> ProcessPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self._processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_started, initargs=(self.initializer, self.initargs))
            return self._executor

    def run_body(self, task: Any, ctx: Any) -> Any:
        """Call the task's function with the run's inputs in a worker process; its result (or
        its exception, raised here)."""
        from sdk import events

        run = ctx.task_run
        call = (_task_reference(task), ctx.parameters,
                (run.id, run.name, run.task_key, run.task_name, run.flow_run_id, run.run_count, ctx.log_prints))
        try:
            ok, value, log_events = self._pool().submit(_run_in_worker, *call).result()
        except BrokenProcessPool:
            with self._executor_lock:  # a worker died: the next run gets a fresh pool
                self._executor = None
            raise
        for event in log_events:  # this run's log lines, and the events of runs its body started
            if event.get("task_run_id") == run.id:
                event["seq"] = run.next_seq()
            events.emit(event)
        if ok:
            return value
        raise value

    def shutdown(self) -> None:
        super().shutdown()
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)  # nothing runs: the flow waited for its tasks

    def __repr__(self) -> str:
        return f"ProcessPoolTaskRunner(max_workers={self.max_workers})"


def _task_reference(task: Any) -> tuple[str, str] | bytes:
    """How the worker finds the task: (module, qualified name) when the module holds it
    there, else the pickled function (a plain module-level function wrapped by `task(fn)`)."""
    fn = getattr(task.fn, "__func__", task.fn)
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if module and "<locals>" not in qualname:
        holder = importlib.import_module(module)
        found: Any = holder
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if found is task or getattr(found, "fn", None) is fn:
            return (module, qualname)
    try:
        return pickle.dumps(fn)
    except Exception as exc:
        raise TypeError(f"Task {task.name!r} cannot run in a worker process: its function {qualname!r} "
                        f"is not importable by name (define it at module level): {exc}") from exc


# -- in the worker process -----------------------------------------------------------------

def _worker_started(initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    if initializer is not None:
        initializer(*initargs)


def _resolve(reference: tuple[str, str] | bytes) -> Any:
    from sdk.tasks import Task

    if isinstance(reference, bytes):
        found = pickle.loads(reference)
    else:
        found = importlib.import_module(reference[0])
        for part in reference[1].split("."):
            found = getattr(found, part)
    return found if isinstance(found, Task) else Task(found)


def _portable(error: BaseException) -> BaseException:
    """The exception itself if it survives pickle, else a RuntimeError describing it."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def _run_in_worker(reference: tuple[str, str] | bytes, parameters: dict[str, Any],
                   info: tuple) -> tuple[bool, Any, list[dict]]:
    from sdk import events, logs
    from sdk.context import TaskRunContext, task_run_var
    from sdk.engine.runs import TaskRun

    run_id, name, task_key, task_name, flow_run_id, run_count, log_prints = info
    task = _resolve(reference)
    run = TaskRun(name=name, task_key=task_key, task_name=task_name, flow_run_id=flow_run_id,
                  parent_task_run_id=None)
    run.id, run.run_count = run_id, run_count
    if log_prints:
        logs.enable_print_logging()
    collected = events.MemorySink()
    previous = events.set_sink(collected)  # this run's log lines go back with its result
    token = task_run_var.set(TaskRunContext(task=task, task_run=run, parameters=parameters,
                                            flow_run_context=None, log_prints=log_prints))
    try:
        ok, value = True, task.signature.call(task.fn, parameters)
    except Exception as exc:
        import traceback

        # The traceback does not cross processes: keep its text on the exception as a note.
        exc.add_note("Traceback in the worker process (most recent call last):\n"
                     + "".join(traceback.format_tb(exc.__traceback__)).rstrip())
        ok, value = False, _portable(exc)
    finally:
        task_run_var.reset(token)
        events.set_sink(previous)
    return ok, value, collected.events
