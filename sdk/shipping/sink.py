"""The shipping sink: a queue in memory, a thread, a spool on disk.

`emit` is a deque append (when the queue is full: one unbuffered write to the
spool). A daemon thread takes batches from the queue every `flush_interval`
(sooner when a full batch is waiting) and hands them to `Delivery`, which POSTs
them to `{api_url}/events/`. When the server cannot take them (down, 5xx, 429,
wrong key), the batch and whatever waits in memory go to the spool and the thread
backs off; once the server answers again it replays the spool (its own and any
abandoned by dead processes reporting to the same URL) before the memory queue.

Reporting problems never raise into user code: each kind of problem is logged
once (logger `sdk.shipping`) until the server accepts a batch again.
Behaviour and settings: docs/shipping.md.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

from sdk.shipping import lifecycle
from sdk.shipping.backoff import Backoff
from sdk.shipping.barriers import FlushBarrier, FlushBarriers
from sdk.shipping.coalescing import BUSY_POLL, Burst
from sdk.shipping.delivery import Delivery, new_stats
from sdk.shipping.problems import ProblemWarnings
from sdk.shipping.replay import send_spooled
from sdk.shipping.settings import environment_settings, orchestrator_home
from sdk.shipping.spool import Spool, spool_dir
from sdk.shipping.transport import GZIP_MIN_BYTES, MAX_BATCH_BYTES, Transport

__all__ = ["ShippingSink"]

log = logging.getLogger("sdk.shipping")

SPOOL_SCAN_INTERVAL = 10.0  # how often the thread looks for spool files abandoned by dead processes


class ShippingSink:
    """The event sink used when ORCHESTRATOR_API_URL is set (see sdk/events.py)."""

    def __init__(
        self,
        api_url: str,
        api_key: str | None = None,
        home: str | os.PathLike | None = None,
        *,
        batch_size: int = 5000,
        flush_interval: float = 0.2,
        max_delay: float = 1.0,
        queue_size: int = 100_000,
        exit_timeout: float = 5.0,
        request_timeout: float = 10.0,
        max_backoff: float = 5.0,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        gzip_min_bytes: int = GZIP_MIN_BYTES,
        register_atexit: bool = True,
    ) -> None:
        self.api_url = api_url
        self.spool = Spool(spool_dir(Path(home) if home else orchestrator_home(), api_url))
        self.batch_size = max(1, int(batch_size))
        self.flush_interval = max(0.01, flush_interval)
        self.max_delay = max_delay
        self.queue_size = max(0, int(queue_size))
        # Between wakes the thread leaves a busy producer alone (coalescing); only a queue half
        # full wakes it early.
        self._wake_at = max(self.batch_size, self.queue_size // 2)
        self.exit_timeout = exit_timeout
        self.max_backoff = max_backoff
        self._transport = Transport(api_url, api_key, request_timeout, max_batch_bytes, gzip_min_bytes)
        self._start_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._closed = False
        self._reset_state()
        lifecycle.register(self, close_at_exit=register_atexit)

    @classmethod
    def from_environment(cls) -> ShippingSink:
        """Build the sink from ORCHESTRATOR_* variables (never raises on bad values)."""
        return cls(**environment_settings())

    def _reset_state(self) -> None:
        self._queue: deque = deque()
        self._check_at = 1  # queue length at which emit takes its slow path; 1: start the thread
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._barriers = FlushBarriers()
        self._next_scan = 0.0  # when to look for abandoned spool files again
        self.problems = ProblemWarnings(log)
        self._burst = Burst(self.max_delay)
        self.stats = new_stats()
        self.backoff = Backoff(self.max_backoff)
        self.delivery = Delivery(self.api_url, self._transport, self.backoff, self.problems, self.stats,
                                 spill=self._spill_from_thread, warn=self._warn_once)

    # -- the user's side: never blocks on the network, never raises -------------

    def emit(self, event: dict) -> None:
        # Hot path: one append and one comparison. Everything else (starting the thread, waking
        # it for a burst, spilling past the bound) happens when the queue reaches `_check_at`.
        queue = self._queue
        queue.append(event)
        if len(queue) >= self._check_at:
            self._on_queue_growth()

    def _on_queue_growth(self) -> None:
        try:
            if self.problems.pending:
                self._check_at = min(self._wake_at, self.queue_size + 1)
                self.problems.deliver(in_user_thread=True)
            if self._thread is None and not self._closed:
                self._start()
            queue = self._queue
            if len(queue) > self.queue_size:
                last = queue.pop()
                if last.__class__ is FlushBarrier:
                    queue.append(last)  # a flush barrier never leaves memory
                else:
                    self._spill([last], fsync=False, by_thread=False)
            elif len(queue) >= self._wake_at:
                self._wake.set()  # a burst: ship before the queue fills up and spills to disk
            # Until the thread takes a batch, only an overflow needs the slow path again.
            bound = self.queue_size + 1
            if self._closed:
                self._check_at = 1
            elif len(queue) >= self._wake_at:
                self._check_at = bound
            else:
                self._check_at = min(self._wake_at, bound)
        except Exception:
            pass

    def flush(self, timeout: float | None = None) -> bool:
        """True once the server acknowledged everything emitted before the call; False on timeout."""
        return self._flush(timeout, FlushBarrier())

    def _flush(self, timeout: float | None, barrier: FlushBarrier) -> bool:
        try:
            if self._closed:
                return not self._queue and not self.spool.has_pending()
            if self._thread is None and not self._queue:
                return True
            self._queue.append(barrier)
            if self._thread is None:
                self._start()
            self.backoff.retry_now()
            self._wake.set()
            return barrier.done.wait(timeout) and barrier.delivered
        except Exception:
            return False

    def close(self, timeout: float | None = None) -> None:
        """Flush for at most `timeout` (default: exit_timeout), then spool what is left.

        Once the server is known unreachable (a delivery failed), close stops waiting as
        soon as everything is in the spool: the next process (or `python -m sdk replay`)
        sends it."""
        if self._closed:
            return
        timeout = self.exit_timeout if timeout is None else timeout
        delivered = self._flush(timeout, FlushBarrier(give_up_when_unreachable=True))
        self.delivery.stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(0.5)  # it may sit in an HTTP call; what it holds is spooled below
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self.queue_size = 0  # late emits go straight to the spool
            self._check_at = 1
            rest = [e for e in self._queue if e.__class__ is not FlushBarrier]
            self._queue.clear()
            leftover = (self.delivery.inflight or []) + rest
            try:
                if leftover:
                    self.spool.append(leftover, fsync=True)
                    self.stats["spooled"] += len(leftover)
                pending = self.spool.has_pending()
                self.spool.close()
            except Exception as exc:
                pending = True
                log.warning("could not write the spool in %s: %s", self.spool.directory, exc)
            self._transport.close()
        self.problems.deliver(in_user_thread=False, force=True)
        if not delivered and pending:
            log.warning(
                "%s did not acknowledge every event (waited at most %.1fs); the rest is kept in %s and "
                "will be sent by the next process that reports to this URL, or by `python -m sdk replay`",
                self.api_url, timeout, self.spool.directory,
            )

    def close_at_exit(self) -> None:
        try:
            self.close(self.exit_timeout)
        except Exception:
            pass

    def after_fork_in_child(self) -> None:
        """The child starts empty: the parent's pending events stay the parent's."""
        self._reset_state()
        self._start_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self.spool.forget_after_fork()
        self._transport.forget()

    # -- the shipping thread ------------------------------------------------------

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="sdk-shipping", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        interval = self.flush_interval
        delivery = self.delivery
        while not delivery.stopping:
            woken = self._wake.wait(interval)
            self._wake.clear()
            if self.problems.pending:
                self.problems.deliver(in_user_thread=False)
            if delivery.stopping:
                return
            if not woken and self._burst.producer_busy(len(self._queue), time.monotonic()):
                interval = min(self.flush_interval, BUSY_POLL)
                continue
            interval = self.flush_interval
            try:
                self._burst.reset()
                self._cycle()
            except Exception as exc:  # the thread must outlive any surprise
                self._warn_once("internal", f"unexpected error while shipping events: {exc!r}")
                delivery.failed(None)

    def _cycle(self) -> None:
        now = time.monotonic()
        delivery = self.delivery
        if self.backoff.waiting(now):
            self._spill_memory()  # while the server is away, memory holds only the last interval
        elif (self.spool.has_pending() or now >= self._next_scan) and not self._replay():
            self._spill_memory()
        else:
            rounds = len(self._queue) // self.batch_size + 1  # then replay the spool again: fairness
            while self._queue and rounds and not delivery.stopping:
                rounds -= 1
                batch = self._take()
                if batch and len(self._queue) >= self.batch_size and rounds:
                    rounds -= 1  # a backlog: keep two batches in flight
                    delivered = delivery.deliver_two(batch, self._take())
                else:
                    delivered = not batch or delivery.deliver(batch, spooled=False)
                if not delivered:
                    self._spill_memory()
                    break
                self._settle_barriers()  # a producer that never pauses must not hold back a flush
        self._settle_barriers()

    def _replay(self) -> bool:
        self._next_scan = time.monotonic() + SPOOL_SCAN_INTERVAL
        return send_spooled(self.spool, self.delivery, self.batch_size)

    def _settle_barriers(self) -> None:
        if not self.delivery.stopping:
            self._barriers.settle(self.spool, self.backoff.server_unreachable)

    def _take(self) -> list[dict]:
        batch: list[dict] = []
        queue = self._queue
        if not self._closed:
            self._check_at = min(self._wake_at, self.queue_size + 1)  # wake again at the next burst
        while queue and len(batch) < self.batch_size:
            item = queue.popleft()
            if item.__class__ is FlushBarrier:
                self._barriers.take(item)
            else:
                batch.append(item)
        return batch

    def _spill_memory(self) -> None:
        events = []
        while self._queue:
            item = self._queue.popleft()
            if item.__class__ is FlushBarrier:
                self._barriers.take(item)
            else:
                events.append(item)
        if events:
            self._spill_from_thread(events)

    def _spill_from_thread(self, events: list[dict]) -> None:
        self._spill(events, fsync=True, by_thread=True)

    def _spill(self, events: list[dict], fsync: bool, by_thread: bool) -> None:
        try:
            self.stats["spooled"] += self.spool.append(events, fsync=fsync)
        except Exception as exc:
            # Never drop: keep them in memory beyond the bound rather than lose them.
            self._warn_once("spool", f"cannot write the spool in {self.spool.directory} ({exc}); "
                                     "keeping events in memory")
            if not by_thread:
                self._queue.extend(events)
                return
            # Back at the front, ahead of the flush barriers they precede.
            self._queue.extendleft(reversed(events + self._barriers.hand_back()))

    def _warn_once(self, problem: str, text: str) -> None:
        if self.problems.add(problem, text):
            self._check_at = 0  # the next emit (in the user's thread, inside its run) logs it
