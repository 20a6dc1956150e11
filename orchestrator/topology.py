"""`make up-scale`: the scale-out topology on one machine (docs/deploy.md).

Two Daphne processes on two loopback ports and two Celery workers, sharing one
PostgreSQL database and one Redis (channel layer and broker). Put a reverse proxy
in front of the ports (docs/deploy.md has an nginx example) or use either directly.

    python -m orchestrator.topology [--servers 2] [--workers 2] [--port 8001]

DATABASE_URL and REDIS_URL come from the environment; without them the local
services are used: postgresql://postgres@127.0.0.1:5432/orchestrator and
redis://127.0.0.1:6379/0. Runs until Ctrl-C; every child stops with it.

Each child is a ProcessSpec, so `make up` (or anything else) can start the same
processes from the same list.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/orchestrator"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    port: int | None = None  # the process is up once this port accepts connections
    env: dict[str, str] = field(default_factory=dict)


def server_spec(name: str, host: str, port: int) -> ProcessSpec:
    return ProcessSpec(name, [str(BIN / "daphne"), "-v", "0", "-b", host, "-p", str(port), "orchestrator.asgi:application"], port)


def worker_spec(name: str, concurrency: int = 2) -> ProcessSpec:
    return ProcessSpec(name, [str(BIN / "celery"), "-A", "orchestrator", "worker", "--loglevel=WARNING",
                              "-n", f"{name}@%h", f"--concurrency={concurrency}"])


def scale_out_specs(host: str = "127.0.0.1", port: int = 8001, servers: int = 2, workers: int = 2) -> list[ProcessSpec]:
    return [server_spec(f"server{i + 1}", host, port + i) for i in range(servers)] + \
        [worker_spec(f"worker{i + 1}") for i in range(workers)]


def scale_out_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The shared environment: every process on the same PostgreSQL and Redis."""
    env = dict(os.environ if base is None else base)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    if not env["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        raise SystemExit("the scale-out topology needs PostgreSQL: set DATABASE_URL=postgresql://...")
    return env


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` when it does not exist yet (first run)."""
    import psycopg
    from urllib.parse import unquote, urlparse

    name = unquote(urlparse(url).path.lstrip("/"))
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


class Topology:
    """Starts ProcessSpecs, waits for their ports, stops them all (children first-started last-stopped)."""

    def __init__(self, specs: list[ProcessSpec], env: dict[str, str], host: str = "127.0.0.1") -> None:
        self.specs = specs
        self.env = env
        self.host = host
        self.children: list[tuple[ProcessSpec, subprocess.Popen]] = []

    def migrate(self) -> None:
        ensure_database(self.env["DATABASE_URL"])
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env,
                       check=True, timeout=600)

    def start(self, timeout: float = 60) -> None:
        for spec in self.specs:
            proc = subprocess.Popen(spec.argv, cwd=ROOT, env={**self.env, **spec.env})
            self.children.append((spec, proc))
        for spec, proc in self.children:
            if spec.port is not None and not wait_for_port(self.host, spec.port, timeout):
                raise RuntimeError(f"{spec.name} did not listen on {self.host}:{spec.port} within {timeout}s")
            if proc.poll() is not None:
                raise RuntimeError(f"{spec.name} exited with {proc.returncode}")

    def stop(self) -> None:
        for _, proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in self.children:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.children = []

    def wait(self) -> int:
        """Until Ctrl-C or until a child exits (then stop the rest)."""
        try:
            while all(proc.poll() is None for _, proc in self.children):
                time.sleep(0.5)
            exited = [spec.name for spec, proc in self.children if proc.poll() is not None]
            print(f"topology: {', '.join(exited)} exited; stopping the rest", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run two Daphne processes and two Celery workers on PostgreSQL + Redis.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8001")), help="first server port")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--exit-after-start", action="store_true", help="start, report, stop (a smoke test)")
    args = parser.parse_args(argv)
    topology = Topology(scale_out_specs(args.host, args.port, args.servers, args.workers), scale_out_environment(),
                        args.host)
    topology.migrate()
    topology.start()
    for spec, proc in topology.children:
        where = f"http://{args.host}:{spec.port}/" if spec.port else "Celery worker"
        print(f"topology: {spec.name} (pid {proc.pid}): {where}", flush=True)
    if args.exit_after_start:
        topology.stop()
        return 0
    print("topology: Ctrl-C stops everything", flush=True)
    return topology.wait()


if __name__ == "__main__":
    sys.exit(main())
