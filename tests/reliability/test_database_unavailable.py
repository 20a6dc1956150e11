"""While PostgreSQL cannot be reached the server answers 503 with Retry-After, never 500.

A real Daphne pointed at a port where no PostgreSQL listens: every path that needs
the database (ingestion, reads, the dashboard, readiness) says "unavailable".
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.shipping.live_server import Database, Server, free_port

# PostgreSQL's outage, simulated by a port where none listens: run once, in the PostgreSQL phase.
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def server_without_database():
    workdir = Path(tempfile.mkdtemp(prefix="orch-nodb-"))
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere?connect_timeout=2"
    server = Server(workdir, url, Database(url, None))
    server.env["DATABASE_POOL_TIMEOUT"] = "2"
    try:
        server.start()
        yield server
    finally:
        server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def root(server: Server) -> str:
    return server.url.removesuffix("/api")


@pytest.mark.parametrize(
    "method,path",
    [
        ("POST", "/api/events/"),
        ("GET", "/api/flow-runs/"),
        ("GET", "/api/logs/"),
        ("GET", "/readyz"),
    ],
)
def test_database_down_is_503_with_retry_after(server_without_database, method, path):
    body = b'{"events": []}' if method == "POST" else None
    response = httpx.request(
        method, root(server_without_database) + path, content=body, timeout=30,
        headers={"Authorization": "Bearer some-key", "Content-Type": "application/json"},
    )
    assert response.status_code == 503, response.text[:500]
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Type"].startswith("application/json")


def test_healthz_still_answers_while_the_database_is_down(server_without_database):
    assert httpx.get(root(server_without_database) + "/healthz", timeout=30).status_code == 200
