"""Running `manage.py up` as a user would: a subprocess with its own home, database and port."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.shipping.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Place:
    """Where one `make up` lives: ORCHESTRATOR_HOME and a SQLite database."""

    home: Path
    database: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "HOST", "PORT")}
        env.update(ORCHESTRATOR_HOME=str(self.home), DATABASE_URL=f"sqlite:///{self.database}", LOG_LEVEL="WARNING")
        return {**env, **self.extra_env}

    def query(self, sql: str, *params) -> list[tuple]:
        conn = sqlite3.connect(self.database, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def flow_runs(self) -> list[tuple[str, str]]:
        """(flow name, current state name) of every stored flow run."""
        return sorted(self.query(
            "SELECT f.name, r.state_name FROM orchestrator_flowrun r JOIN orchestrator_flow f ON f.id = r.flow_id"
        ))


def run_up(place: Place, *args: str, port: int | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    port = port or free_port()
    return subprocess.run(
        [sys.executable, "manage.py", "up", "--exit-after-start", "--port", str(port), *args],
        cwd=ROOT, env=place.env(), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def printed_key(output: str) -> str:
    """The API key from the summary's `export ORCHESTRATOR_API_URL=... ORCHESTRATOR_API_KEY=...` line."""
    for line in output.splitlines():
        if "ORCHESTRATOR_API_KEY=" in line:
            return line.split("ORCHESTRATOR_API_KEY=", 1)[1].strip()
    raise AssertionError(f"no ORCHESTRATOR_API_KEY in the output:\n{output}")
