"""Shipping events to the server: a queue in memory, a thread, a spool on disk.

`emit` is a deque append (when the queue is full: one unbuffered write to the
spool). A daemon thread takes batches from the queue every `flush_interval`
(sooner when a full batch is waiting) and POSTs them to `{api_url}/events/`.
When the server cannot take them (down, 5xx, 429, wrong key), the batch and
whatever waits in memory go to the spool and the thread backs off
(exponential, with jitter); once the server answers again it replays the
spool (its own and any abandoned by dead processes reporting to the same URL)
before the memory queue. Ingestion is idempotent by event id, so sending an
event twice is harmless: delivery is at-least-once, storage exactly-once.

Reporting problems never raise into user code: each kind of problem is
logged once (logger `sdk.shipping`) until the server accepts a batch again.
Behaviour and settings: docs/shipping.md.
"""
from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from pathlib import Path

from sdk.shipping.problems import ProblemWarnings
from sdk.shipping.spool import Spool, spool_dir

__all__ = ["ShippingSink"]

log = logging.getLogger("sdk.shipping")

# While user code keeps emitting, the thread looks again this soon, so it notices the end of a
# burst (and starts sending) within a few hundredths of a second instead of a whole interval.
BUSY_POLL = 0.02


class _Barrier:
    """Put in the queue by `flush`: set once everything emitted before it is acknowledged.

    When the thread takes it from the queue, every event before it was sent or spooled; it
    then waits until the spool's acknowledged count reaches what was spooled by that time."""

    __slots__ = ("done", "spooled")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.spooled = -1  # Spool.written once everything before the barrier was sent or spooled


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
        max_batch_bytes: int = 8 * 1024 * 1024,
        gzip_min_bytes: int = 16 * 1024,
        register_atexit: bool = True,
    ) -> None:
        from sdk.shipping.transport import Transport

        self.api_url = api_url
        home = Path(home) if home else Path(os.environ.get("ORCHESTRATOR_HOME") or Path.home() / ".orchestrator")
        self.spool = Spool(spool_dir(home, api_url))
        self.batch_size = max(1, int(batch_size))
        self.flush_interval = max(0.01, flush_interval)
        self.max_delay = max(0.0, max_delay)
        self.queue_size = max(0, int(queue_size))
        # Between wakes the thread leaves a busy producer alone (coalescing); only a queue half
        # full wakes it early.
        self._wake_at = max(self.batch_size, self.queue_size // 2)
        self.exit_timeout = exit_timeout
        self.max_backoff = max(0.05, max_backoff)
        self._transport = Transport(api_url, api_key, request_timeout, max_batch_bytes, gzip_min_bytes)
        self._start_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._closed = False
        self._reset_state()
        _live_sinks.add(self)
        if register_atexit:
            atexit.register(self._close_at_exit)
        _register_multiprocessing_hook(self)

    @classmethod
    def from_environment(cls) -> "ShippingSink":
        """Build the sink from ORCHESTRATOR_* variables (never raises on bad values)."""
        from sdk.shipping.settings import environment_settings

        return cls(**environment_settings())

    def _reset_state(self) -> None:
        self._queue: deque = deque()
        self._check_at = 1  # queue length at which emit takes its slow path; 1: start the thread
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._inflight: list[dict] | None = None
        self._taken: list[_Barrier] = []  # taken from the queue with a batch still being sent
        self._barriers: list[_Barrier] = []  # waiting for the spool's acknowledgements
        self._failures = 0
        self._retry_at = 0.0
        self._next_scan = 0.0  # when to look for abandoned spool files again
        self.problems = ProblemWarnings(log)
        self._stopping = False
        self._burst_start: float | None = None  # when the thread first saw the current burst
        self._burst_len = 0
        self.stats = {"sent": 0, "rejected": 0, "dropped": 0, "spooled": 0, "replayed": 0}

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
                if last.__class__ is _Barrier:
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
        try:
            if self._closed:
                return not self._queue and not self.spool.has_pending()
            if self._thread is None and not self._queue:
                return True
            barrier = _Barrier()
            self._queue.append(barrier)
            if self._thread is None:
                self._start()
            self._retry_at = 0.0  # a flush is worth one immediate attempt
            self._wake.set()
            return barrier.done.wait(timeout)
        except Exception:
            return False

    def close(self, timeout: float | None = None) -> None:
        """Flush for at most `timeout` (default: exit_timeout), then spool what is left."""
        if self._closed:
            return
        timeout = self.exit_timeout if timeout is None else timeout
        delivered = self.flush(timeout)
        self._stopping = True
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
            rest = [e for e in self._queue if e.__class__ is not _Barrier]
            self._queue.clear()
            leftover = (self._inflight or []) + rest
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
                "%s did not acknowledge every event within %.1fs; the rest is kept in %s and will "
                "be sent by the next process that reports to this URL", self.api_url, timeout, self.spool.directory,
            )

    def _close_at_exit(self) -> None:
        try:
            self.close(self.exit_timeout)
        except Exception:
            pass

    # -- the shipping thread ------------------------------------------------------

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="sdk-shipping", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        interval = self.flush_interval
        while not self._stopping:
            woken = self._wake.wait(interval)
            self._wake.clear()
            if self.problems.pending:
                self.problems.deliver(in_user_thread=False)
            if self._stopping:
                return
            if not woken and self._producer_busy():
                interval = min(self.flush_interval, BUSY_POLL)
                continue
            interval = self.flush_interval
            try:
                self._burst_start, self._burst_len = None, 0
                self._cycle()
            except Exception as exc:  # the thread must outlive any surprise
                self._warn_once("internal", "unexpected error while shipping events: %r", exc)
                self._back_off(None)

    def _producer_busy(self) -> bool:
        """Coalescing: while user code keeps emitting, wait (at most max_delay) instead of competing
        with it for the GIL; ship once it pauses (no new event for BUSY_POLL seconds). flush() and a
        half-full queue skip this."""
        length = len(self._queue)
        now = time.monotonic()
        if self._burst_start is None:
            self._burst_start = now
        growing, self._burst_len = length > self._burst_len, length
        return growing and now - self._burst_start < self.max_delay

    def _cycle(self) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            self._spill_memory()  # while the server is away, memory holds only the last interval
        elif (self.spool.has_pending() or now >= self._next_scan) and not self._replay():
            self._spill_memory()
        else:
            rounds = len(self._queue) // self.batch_size + 1  # then replay the spool again: fairness
            while self._queue and rounds and not self._stopping:
                rounds -= 1
                batch = self._take()
                if batch and len(self._queue) >= self.batch_size and rounds:
                    rounds -= 1  # a backlog: keep two batches in flight
                    delivered = self._deliver_two(batch, self._take())
                else:
                    delivered = not batch or self._deliver(batch, spooled=False)
                if not delivered:
                    self._spill_memory()
                    break
                self._settle_barriers()  # a producer that never pauses must not hold back a flush
        self._settle_barriers()

    def _settle_barriers(self) -> None:
        """Everything before the taken barriers is now sent or spooled; set those whose spooled
        events are acknowledged too."""
        if self._taken:
            written = self.spool.written
            for barrier in self._taken:
                barrier.spooled = written
            self._barriers += self._taken
            self._taken = []
        if self._barriers and not self._stopping:
            acked = self.spool.acked
            waiting = []
            for barrier in self._barriers:
                if acked >= barrier.spooled:
                    barrier.done.set()
                else:
                    waiting.append(barrier)
            self._barriers = waiting

    def _take(self) -> list[dict]:
        batch: list[dict] = []
        queue = self._queue
        if not self._closed:
            self._check_at = min(self._wake_at, self.queue_size + 1)  # wake again at the next burst
        while queue and len(batch) < self.batch_size:
            item = queue.popleft()
            if item.__class__ is _Barrier:
                self._taken.append(item)
            else:
                batch.append(item)
        return batch

    def _spill_memory(self) -> None:
        events = []
        while self._queue:
            item = self._queue.popleft()
            if item.__class__ is _Barrier:
                self._taken.append(item)
            else:
                events.append(item)
        if events:
            self._spill(events, fsync=True)

    def _spill(self, events: list[dict], fsync: bool, by_thread: bool = True) -> None:
        try:
            self.stats["spooled"] += self.spool.append(events, fsync=fsync)
        except Exception as exc:
            # Never drop: keep them in memory beyond the bound rather than lose them.
            self._warn_once("spool", "cannot write the spool in %s (%s); keeping events in memory",
                            self.spool.directory, exc)
            if not by_thread:
                self._queue.extend(events)
                return
            # Back at the front, ahead of the flush barriers they precede.
            barriers, self._taken = self._taken, []
            self._queue.extendleft(reversed(events + barriers))

    def _replay(self) -> bool:
        """Send spooled events (own and abandoned), oldest file first. False if the server failed."""
        self._next_scan = time.monotonic() + 10.0
        for spool_file in self.spool.claim(foreign=True):
            while not self._stopping:
                events, end = spool_file.read_chunk(self.batch_size)
                if not events:
                    self.spool.done(spool_file)
                    break
                if not self._deliver(events, spooled=True):
                    return False
                spool_file.acked = end
                self.spool.acknowledged(spool_file, len(events))
                self.stats["replayed"] += len(events)
            if self._stopping:
                return False
        return True

    def _send(self, events: list[dict]):
        from sdk.shipping.transport import RETRY, Outcome

        try:
            return self._transport.send(events)
        except Exception as exc:  # a bug or a broken install: keep the events, say so once
            return Outcome(RETRY, "internal", f"cannot send events: {exc!r}")

    def _deliver_two(self, first: list[dict], second: list[dict]) -> bool:
        """POST two batches at once, so that the server reads one while it stores the other (and
        this process encodes one meanwhile). A batch that does not go through is then delivered
        on its own, exactly as `_deliver` does (splitting, backing off, spooling); sending it
        again is harmless, since the server stores every event once."""
        from sdk.shipping.transport import OK

        if not second:
            return self._deliver(first, spooled=False)
        self._inflight = first + second
        outcomes: list = [None]
        try:
            self._transport.prepare()  # one client for both threads, made before they start
            helper = threading.Thread(target=lambda: outcomes.__setitem__(0, self._send(first)),
                                      name="sdk-shipping-2", daemon=True)
            helper.start()
            outcome_second = self._send(second)
            helper.join()  # bounded by the request timeout
        except Exception as exc:
            self._warn_once("internal", "unexpected error while shipping events: %r", exc)
            outcome_second = None
        pairs = [(first, outcomes[0]), (second, outcome_second)]
        if self._stopping:  # close() spools what is in flight
            self._inflight = [e for batch, o in pairs if o is None or o.kind != OK for e in batch] or None
            return False
        self._inflight = None
        undelivered = []
        for batch, outcome in pairs:
            if outcome is not None and outcome.kind == OK:
                self._accepted(batch, outcome)
            else:
                undelivered.append(batch)
        for i, batch in enumerate(undelivered):
            if not self._deliver(batch, spooled=False):
                if undelivered[i + 1:]:
                    self._spill([e for rest in undelivered[i + 1:] for e in rest], fsync=True)
                return False
        return True

    def _deliver(self, events: list[dict], spooled: bool) -> bool:
        """POST events, splitting refused batches. False (events kept or spooled) if the server failed."""
        from sdk.shipping.transport import OK, SPLIT

        if not spooled:
            self._inflight = events
        work = [events]
        keep: list[dict] | None = None
        try:
            while work:
                part = work.pop()
                outcome = self._send(part)
                if self._stopping:  # close() spools what is still in flight
                    keep = [e for chunk in ([] if outcome.kind == OK else [part]) + work for e in chunk]
                    return False
                if outcome.kind == OK:
                    self._accepted(part, outcome)
                elif outcome.kind == SPLIT and len(part) > 1:
                    middle = len(part) // 2
                    work += [part[middle:], part[:middle]]
                elif outcome.kind == SPLIT:
                    self.stats["dropped"] += 1
                    event = part[0] if isinstance(part[0], dict) else {}
                    log.warning("the server refused event %s (%s) and it is dropped: %s",
                                event.get("id"), event.get("type"), outcome.message)
                else:
                    self._back_off(outcome)
                    if not spooled:
                        self._spill([e for chunk in [part, *work] for e in chunk], fsync=True)
                    return False
            return True
        finally:
            if not spooled:
                self._inflight = keep or None

    def _accepted(self, batch: list[dict], outcome) -> None:
        self._succeeded()
        self.stats["sent"] += len(batch)
        if outcome.rejected:
            self._report_rejected(batch, outcome.rejected)

    def _report_rejected(self, part: list[dict], rejected: list) -> None:
        self.stats["rejected"] += len(rejected)
        shown = []
        for item in rejected[:10]:
            index = item.get("index") if isinstance(item, dict) else None
            event = part[index] if isinstance(index, int) and 0 <= index < len(part) else {}
            reason = item.get("error") if isinstance(item, dict) else item
            shown.append(f"{event.get('type')} {event.get('id')}: {reason}")
        more = f" (and {len(rejected) - 10} more)" if len(rejected) > 10 else ""
        log.warning("the server rejected %d of %d events; they are dropped, not retried: %s%s",
                    len(rejected), len(part), "; ".join(shown), more)

    def _succeeded(self) -> None:
        if self._failures:
            log.info("%s accepts events again", self.api_url)
        self._failures = 0
        self._retry_at = 0.0
        self.problems.clear()

    def _back_off(self, outcome) -> None:
        from sdk.shipping.transport import CONFIG

        self._failures += 1
        if outcome is not None and outcome.kind == CONFIG:
            delay = self.max_backoff
        else:
            delay = min(self.max_backoff, 0.1 * 2 ** min(self._failures, 30))
        delay *= random.uniform(0.5, 1.0)  # jitter: processes that failed together retry apart
        if outcome is not None and outcome.retry_after:
            delay = max(delay, min(outcome.retry_after, 60.0))
        self._retry_at = time.monotonic() + delay
        if outcome is not None:
            self._warn_once(outcome.problem, "%s; events are kept and retried", outcome.message)

    def _warn_once(self, problem: str, message: str, *args) -> None:
        if self.problems.add(problem, message % args if args else message):
            self._check_at = 0  # the next emit (in the user's thread, inside its run) logs it

    # -- fork ------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        """The child starts empty: the parent's pending events stay the parent's."""
        self._reset_state()
        self._start_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self.spool.forget_after_fork()
        self._transport.forget()


_live_sinks: "weakref.WeakSet[ShippingSink]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for sink in list(_live_sinks):
        sink._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _register_multiprocessing_hook(sink: ShippingSink) -> None:
    # multiprocessing children end with os._exit (no atexit): close the sink from its exit hook.
    import multiprocessing.util as mp_util

    def in_child(s: ShippingSink) -> None:
        mp_util.Finalize(s, s._close_at_exit, exitpriority=10)

    mp_util.register_after_fork(sink, in_child)
