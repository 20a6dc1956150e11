"""How long the shipper waits after the server failed before it tries again.

Exponential (0.2 s, 0.4 s, … capped at `max_backoff`), each delay times a random
0.5–1 so that processes that failed together retry apart; a `Retry-After` header
is respected up to 60 s; a problem that needs a person (wrong key or URL)
retries at the cap.
"""
from __future__ import annotations

import random
import time

from sdk.shipping.transport import CONFIG, Outcome

__all__ = ["Backoff"]

MAX_RETRY_AFTER = 60.0


class Backoff:
    def __init__(self, max_backoff: float) -> None:
        self.max_backoff = max(0.05, max_backoff)
        self.failures = 0  # consecutive failed deliveries
        self.retry_at = 0.0  # time.monotonic() before which the server is not tried again

    @property
    def server_unreachable(self) -> bool:
        """The last delivery failed: the server is known not to take events right now."""
        return self.failures > 0

    def waiting(self, now: float) -> bool:
        return now < self.retry_at

    def failed(self, outcome: Outcome | None) -> None:
        """A delivery failed (`outcome` None: an unexpected error in the shipper itself)."""
        self.failures += 1
        if outcome is not None and outcome.kind == CONFIG:
            delay = self.max_backoff
        else:
            delay = min(self.max_backoff, 0.1 * 2 ** min(self.failures, 30))
        delay *= random.uniform(0.5, 1.0)
        if outcome is not None and outcome.retry_after:
            delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
        self.retry_at = time.monotonic() + delay

    def succeeded(self) -> bool:
        """The server took a batch; True if it had been failing until now."""
        was_failing = self.failures > 0
        self.failures = 0
        self.retry_at = 0.0
        return was_failing

    def retry_now(self) -> None:
        """A flush is worth one immediate attempt, even during a back-off."""
        self.retry_at = 0.0
