"""Delivering batches: POST, split a refused batch to isolate the bad event, keep two
batches in flight for a backlog, and record what failed (back-off, warnings, spill).

The server stores each event once whatever the number of times it is sent, so a
batch whose fate is unknown is simply sent again: delivery is at-least-once.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from sdk.shipping.backoff import Backoff
from sdk.shipping.problems import ProblemWarnings
from sdk.shipping.transport import OK, RETRY, SPLIT, Outcome, Transport

__all__ = ["Delivery", "new_stats"]

log = logging.getLogger("sdk.shipping")

Spill = Callable[[list], None]  # writes undelivered events to the spool (fsynced)
Warn = Callable[[str, str], None]  # (problem key, text): warn once per kind of problem


def new_stats() -> dict[str, int]:
    return {"sent": 0, "rejected": 0, "dropped": 0, "spooled": 0, "replayed": 0}


class Delivery:
    def __init__(self, api_url: str, transport: Transport, backoff: Backoff, problems: ProblemWarnings,
                 stats: dict[str, int], spill: Spill, warn: Warn) -> None:
        self.api_url = api_url
        self.transport = transport
        self.backoff = backoff
        self.problems = problems
        self.stats = stats
        self._spill = spill
        self._warn = warn
        self.inflight: list[dict] | None = None  # being sent now: close() spools it if the thread is stuck
        self.stopping = False  # set by close(): give up and leave what is in flight to it

    def deliver(self, events: list[dict], spooled: bool) -> bool:
        """POST events, splitting refused batches. False (events kept or spooled) if the server failed.

        `spooled`: the events come from the spool (they stay there until acknowledged)."""
        if not spooled:
            self.inflight = events
        work = [events]
        keep: list[dict] | None = None
        try:
            while work:
                part = work.pop()
                outcome = self.send(part)
                if self.stopping:  # close() spools what is still in flight
                    keep = [e for chunk in ([] if outcome.kind == OK else [part]) + work for e in chunk]
                    return False
                if outcome.kind == OK:
                    self.accepted(part, outcome)
                elif outcome.kind == SPLIT and len(part) > 1:
                    middle = len(part) // 2
                    work += [part[middle:], part[:middle]]
                elif outcome.kind == SPLIT:
                    self.stats["dropped"] += 1
                    event = part[0] if isinstance(part[0], dict) else {}
                    log.warning("the server refused event %s (%s) and it is dropped: %s",
                                event.get("id"), event.get("type"), outcome.message)
                else:
                    self.failed(outcome)
                    if not spooled:
                        self._spill([e for chunk in [part, *work] for e in chunk])
                    return False
            return True
        finally:
            if not spooled:
                self.inflight = keep or None

    def deliver_two(self, first: list[dict], second: list[dict]) -> bool:
        """POST two batches at once, so that the server reads one while it stores the other (and
        this process encodes one meanwhile). A batch that does not go through is then delivered
        on its own, exactly as `deliver` does (splitting, backing off, spooling)."""
        if not second:
            return self.deliver(first, spooled=False)
        self.inflight = first + second
        outcomes: list[Outcome | None] = [None]
        try:
            self.transport.prepare()  # one client for both threads, made before they start
            helper = threading.Thread(target=lambda: outcomes.__setitem__(0, self.send(first)),
                                      name="sdk-shipping-2", daemon=True)
            helper.start()
            outcome_second: Outcome | None = self.send(second)
            helper.join()  # bounded by the request timeout
        except Exception as exc:
            self._warn("internal", f"unexpected error while shipping events: {exc!r}")
            outcome_second = None
        pairs = [(first, outcomes[0]), (second, outcome_second)]
        if self.stopping:  # close() spools what is in flight
            self.inflight = [e for batch, o in pairs if o is None or o.kind != OK for e in batch] or None
            return False
        self.inflight = None
        undelivered = []
        for batch, outcome in pairs:
            if outcome is not None and outcome.kind == OK:
                self.accepted(batch, outcome)
            else:
                undelivered.append(batch)
        for i, batch in enumerate(undelivered):
            if not self.deliver(batch, spooled=False):
                if undelivered[i + 1:]:
                    self._spill([e for rest in undelivered[i + 1:] for e in rest])
                return False
        return True

    def send(self, events: list[dict]) -> Outcome:
        try:
            return self.transport.send(events)
        except Exception as exc:  # a bug or a broken install: keep the events, say so once
            return Outcome(RETRY, "internal", f"cannot send events: {exc!r}")

    def accepted(self, batch: list[dict], outcome: Outcome) -> None:
        if self.backoff.succeeded():
            log.info("%s accepts events again", self.api_url)
        self.problems.clear()
        self.stats["sent"] += len(batch)
        if outcome.rejected:
            self._report_rejected(batch, outcome.rejected)

    def failed(self, outcome: Outcome | None) -> None:
        """The server did not take a batch (`outcome` None: the shipper itself failed)."""
        self.backoff.failed(outcome)
        if outcome is not None:
            self._warn(outcome.problem, f"{outcome.message}; events are kept and retried")

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
