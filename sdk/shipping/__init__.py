"""Shipping events to the server (see docs/shipping.md).

`ShippingSink` is the event sink used when ORCHESTRATOR_API_URL is set;
`replay_spool()` sends what earlier processes left in the on-disk spool.
httpx is imported only when the first batch is sent (`transport`).
"""
from __future__ import annotations

from sdk.shipping.replay import ReplayReport, replay_spool
from sdk.shipping.sink import ShippingSink

__all__ = ["ShippingSink", "ReplayReport", "replay_spool"]
