"""orchestrator/request_threads.py: HTTP requests run their Django code on pooled threads, one request per thread."""
from __future__ import annotations

import asyncio
import threading

import pytest

from orchestrator.request_threads import IdleThreads, ReusedThreadsASGIHandler
from tests.asgi import drive, http_scope, status_of

pytestmark = pytest.mark.django_db(transaction=True)


def handler_with(threads: IdleThreads) -> ReusedThreadsASGIHandler:
    handler = ReusedThreadsASGIHandler()
    handler.threads = threads
    return handler


async def get(app, path: str) -> list[dict]:
    return await drive(app, http_scope(path, "GET"))


def test_requests_one_after_another_share_one_thread():
    threads = IdleThreads()
    handler = handler_with(threads)

    async def five() -> list[int]:
        return [status_of(await get(handler, "/healthz")) for _ in range(5)]

    assert asyncio.run(five()) == [200] * 5
    assert threads.started == 1
    assert len(threads.idle) == 1
    # Django ran the requests on it: a ThreadPoolExecutor starts its thread at its first task.
    assert len(threads.idle[0]._threads) == 1


def test_concurrent_requests_each_get_a_thread_and_give_it_back():
    threads = IdleThreads()
    handler = handler_with(threads)

    async def three_at_once() -> list[list[dict]]:
        return await asyncio.gather(*(get(handler, "/healthz") for _ in range(3)))

    before = threading.active_count()
    assert [status_of(s) for s in asyncio.run(three_at_once())] == [200] * 3
    assert 1 <= threads.started <= 3
    assert len(threads.idle) == threads.started
    assert threading.active_count() <= before + threads.started  # no thread per request beyond the pool's


def test_beyond_the_idle_bound_an_executor_is_shut_down_not_kept():
    threads = IdleThreads(keep=1)
    first, second = threads.take(), threads.take()
    assert first.submit(threading.get_ident).result() != second.submit(threading.get_ident).result()
    threads.give_back(first)
    threads.give_back(second)
    assert threads.idle == [first]
    with pytest.raises(RuntimeError):
        second.submit(print)  # shut down
    assert threads.take() is first
