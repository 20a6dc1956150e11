"""Shipping settings from the environment (documented in docs/shipping.md).

A value that is not a non-negative number is ignored with a warning: a typo
in a tuning variable must never break the user's program.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["environment_settings", "orchestrator_home"]

log = logging.getLogger("sdk.shipping")

# variable → (ShippingSink keyword, default, type)
TUNING = {
    "ORCHESTRATOR_SHIP_BATCH_SIZE": ("batch_size", 5000, int),
    "ORCHESTRATOR_SHIP_INTERVAL": ("flush_interval", 0.2, float),
    "ORCHESTRATOR_SHIP_MAX_DELAY": ("max_delay", 1.0, float),
    "ORCHESTRATOR_SHIP_QUEUE_SIZE": ("queue_size", 100_000, int),
    "ORCHESTRATOR_SHIP_EXIT_TIMEOUT": ("exit_timeout", 5.0, float),
    "ORCHESTRATOR_SHIP_REQUEST_TIMEOUT": ("request_timeout", 10.0, float),
    "ORCHESTRATOR_SHIP_MAX_BACKOFF": ("max_backoff", 5.0, float),
}


def _number(name: str, default, cast):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = cast(raw)
        if value < 0:
            raise ValueError(raw)
    except ValueError:
        log.warning("ignoring %s=%r (not a non-negative number); using %s", name, raw, default)
        return default
    return value


def orchestrator_home() -> Path:
    """ORCHESTRATOR_HOME: local state (the spool among it); default ~/.orchestrator."""
    return Path(os.environ.get("ORCHESTRATOR_HOME") or Path.home() / ".orchestrator")


def environment_settings() -> dict:
    """Keyword arguments for ShippingSink, read from ORCHESTRATOR_* variables."""
    settings = {
        "api_url": os.environ.get("ORCHESTRATOR_API_URL", "").strip(),
        "api_key": os.environ.get("ORCHESTRATOR_API_KEY") or None,
        "home": os.environ.get("ORCHESTRATOR_HOME") or None,
    }
    for name, (keyword, default, cast) in TUNING.items():
        settings[keyword] = _number(name, default, cast)
    if not settings["batch_size"]:
        settings["batch_size"] = TUNING["ORCHESTRATOR_SHIP_BATCH_SIZE"][1]
    if not settings["request_timeout"]:
        settings["request_timeout"] = TUNING["ORCHESTRATOR_SHIP_REQUEST_TIMEOUT"][1]
    return settings
