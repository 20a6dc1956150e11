"""Replaying the spool: events that earlier processes could not deliver.

The shipping thread replays before sending new events; `replay_spool()` does it
on demand for a process that may never emit (a task worker when it starts), and
`python -m sdk replay` from a shell.
"""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from sdk.shipping.backoff import Backoff
from sdk.shipping.delivery import Delivery, new_stats
from sdk.shipping.problems import ProblemWarnings
from sdk.shipping.settings import environment_settings, orchestrator_home
from sdk.shipping.spool import Spool, spool_dir
from sdk.shipping.transport import GZIP_MIN_BYTES, MAX_BATCH_BYTES, Transport

__all__ = ["ReplayReport", "replay_spool", "send_spooled", "main"]

log = logging.getLogger("sdk.shipping")


def send_spooled(spool: Spool, delivery: Delivery, batch_size: int) -> bool:
    """Send every spool file this process may claim (its own and abandoned ones), oldest
    first; a file is deleted once all of it is acknowledged. False as soon as the server fails."""
    for spool_file in spool.claim(foreign=True):
        while not delivery.stopping:
            events, end = spool_file.read_chunk(batch_size)
            if not events:
                spool.done(spool_file)
                break
            if not delivery.deliver(events, spooled=True):
                return False
            spool_file.acked = end
            spool.acknowledged(spool_file, len(events))
            delivery.stats["replayed"] += len(events)
        if delivery.stopping:
            return False
    return True


@dataclass(frozen=True)
class ReplayReport:
    """What `replay_spool()` did: events the server acknowledged, events still spooled."""

    delivered: int
    remaining: int
    directory: Path | None


def replay_spool() -> ReplayReport:
    """Send what is spooled for ORCHESTRATOR_API_URL (under ORCHESTRATOR_HOME), now, in this thread.

    Stops at the first delivery the server refuses or cannot take (what is left stays
    spooled); each request is bounded by ORCHESTRATOR_SHIP_REQUEST_TIMEOUT. Files held by
    live processes are theirs to send and count as remaining. Does nothing when
    ORCHESTRATOR_API_URL is unset. Never raises for a server problem."""
    settings = environment_settings()
    api_url = settings["api_url"]
    if not api_url:
        return ReplayReport(0, 0, None)
    home = Path(settings["home"]) if settings["home"] else None
    spool = Spool(spool_dir(home or orchestrator_home(), api_url))
    transport = Transport(api_url, settings["api_key"], settings["request_timeout"], MAX_BATCH_BYTES, GZIP_MIN_BYTES)
    problems = ProblemWarnings(log)
    stats = new_stats()

    def keep_spooled(events: list) -> None:
        raise AssertionError("replayed events are never spilled: they are still in the spool")

    delivery = Delivery(api_url, transport, Backoff(settings["max_backoff"]), problems, stats,
                        spill=keep_spooled, warn=lambda problem, text: problems.add(problem, text))
    try:
        send_spooled(spool, delivery, settings["batch_size"])
        remaining = spool.pending_records()
    finally:
        spool.close()
        transport.close()
        problems.deliver(in_user_thread=False, force=True)
    return ReplayReport(stats["replayed"], remaining, spool.directory)


def main(argv: list[str]) -> int:
    """`python -m sdk replay`: print how many events were delivered and how many remain."""
    if argv:
        print("usage: python -m sdk replay", file=sys.stderr)
        return 2
    if not environment_settings()["api_url"]:
        print("error: ORCHESTRATOR_API_URL is not set: there is no server to replay the spool to",
              file=sys.stderr)
        return 2
    report = replay_spool()
    print(f"delivered {report.delivered} events; {report.remaining} remain in {report.directory}")
    return 0 if report.remaining == 0 else 1
