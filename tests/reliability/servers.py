"""Live Daphne servers with extra environment (rate limits, metrics, Redis), for reliability tests."""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tests.shipping.live_server import Server, fresh_database


@contextmanager
def server_with(env: dict[str, str], scope: str = "admin") -> Iterator[Server]:
    """Like live_server.running_server, with `env` added to the server's environment."""
    workdir = Path(tempfile.mkdtemp(prefix="orch-rel-"))
    database_url, db, drop = fresh_database(workdir)
    server = Server(workdir, database_url, db)
    server.env.update(env)
    try:
        server.manage("migrate", "--noinput")
        server.key = server.manage("createapikey", "reliability", "--scope", scope).strip().splitlines()[-1]
        server.start()
        yield server
    finally:
        server.kill()
        drop()
        shutil.rmtree(workdir, ignore_errors=True)
