"""The server and the SDK name a key's queue the same way (they share no code)."""
from __future__ import annotations

import pytest

from orchestrator.queues import queue_name as server_queue_name
from sdk.workers.queues import queue_name as sdk_queue_name

KEYS = ["add-5f3a9c1e", "daily-revenue", "with space", "dots.in.name", "ünïcode", "a/b\\c", "x" * 300, "", "-_"]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("kind", ["task", "flow"])
def test_both_sides_agree(kind, key, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_QUEUE_PREFIX", "pre fix")
    assert server_queue_name(kind, key) == sdk_queue_name(kind, key)


def test_names_are_safe_for_every_broker_and_distinct():
    names = {sdk_queue_name("task", key, "p") for key in KEYS} | {sdk_queue_name("flow", key, "p") for key in KEYS}
    assert len(names) == 2 * len(KEYS)
    for name in names:
        prefix, kind, rest = name.split(".", 2)
        assert (prefix, kind in ("task", "flow")) == ("p", True)
        assert all(c.isalnum() and c.isascii() or c in "_-" for c in rest) and len(name) < 200


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError):
        sdk_queue_name("job", "x")
