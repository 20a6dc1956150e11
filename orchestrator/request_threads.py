"""Django's ASGI handler with each HTTP request's sync code on a reused thread.

Django runs a request's sync code (middleware, views, database) on a thread of its own
(asgiref's ThreadSensitiveContext): by default a new thread per request, shut down at the
end of the request by yet another new thread. Under steady ingestion that is two thread
starts and a join per batch, taken on the event loop's thread while it holds the GIL. Here
the request's thread comes from a pool of idle ones (asgiref's `executor=` option: the caller
owns the executor), so a request still runs alone on its thread but no thread is started.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

KEEP_IDLE = 32  # more requests at once than this start threads that end with their request


class IdleThreads:
    """Single-thread executors waiting for a request; the most recently used one first."""

    def __init__(self, keep: int = KEEP_IDLE) -> None:
        self.keep = keep
        self.lock = threading.Lock()
        self.idle: list[ThreadPoolExecutor] = []
        self.started = 0  # executors made so far (each starts its thread on first use)

    def take(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.idle:
                return self.idle.pop()
            self.started += 1
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        # A request cut short may leave work queued on it: the next request's work waits behind it.
        with self.lock:
            if len(self.idle) < self.keep:
                self.idle.append(executor)
                return
        executor.shutdown(wait=False)


class ReusedThreadsASGIHandler(ASGIHandler):
    threads = IdleThreads()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)  # Django refuses it
        executor = self.threads.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)
