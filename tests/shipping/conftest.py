"""Fixtures for the shipping tests: a real server (see live_server.py), a private
ORCHESTRATOR_HOME, and a handler that collects what `sdk.shipping` logs."""
from __future__ import annotations

import logging

import pytest

from sdk.shipping import ShippingSink
from tests.shipping.helpers import LogRecords
from tests.shipping.live_server import running_server


@pytest.fixture(scope="session")
def server_session():
    with running_server() as server:
        yield server


@pytest.fixture
def server(server_session):
    """The running server with empty run tables (restarted if a previous test killed it)."""
    if not server_session.running:
        server_session.start()
    server_session.db.clear()
    yield server_session


@pytest.fixture
def make_sink(server, home):
    """Build ShippingSinks for the test server; each is closed (its thread stopped) after the test,
    so a failing test cannot keep sending into the next one."""
    sinks: list[ShippingSink] = []

    def make(**options) -> ShippingSink:
        sink = ShippingSink(server.url, server.key, home, register_atexit=False, **options)
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        sink.close(0)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private ORCHESTRATOR_HOME (spool, results) for the test and its subprocesses."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(path))
    return path


@pytest.fixture
def shipping_log():
    logger = logging.getLogger("sdk.shipping")
    handler = LogRecords()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
