"""Reading settings from the environment (SPEC §4.1). No Django imports here."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


def orchestrator_home() -> Path:
    return Path(os.environ.get("ORCHESTRATOR_HOME") or Path.home() / ".orchestrator")


def private_dir(path: Path) -> Path:
    """Create `path` (and any missing parent up to it) readable by this user only: it holds keys."""
    missing, folder = [], path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is filtered by the umask; be explicit
    return path


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def database_from_url(url: str | None, default_sqlite: Path) -> dict:
    """`DATABASE_URL` → a Django DATABASES entry. Accepts postgres://, postgresql://, sqlite:///path."""
    if not url:
        return sqlite_database(default_sqlite)
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        elif path.startswith("/"):
            path = path[1:] or str(default_sqlite)
        return sqlite_database(Path(path) if path != ":memory:" else path)
    if parsed.scheme in ("postgres", "postgresql", "pgsql"):
        options: dict = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        pool = connection_pool_options()
        if pool:
            options["pool"] = pool
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            # A pooled connection goes back to the pool at the end of each request (Django requires 0).
            "CONN_MAX_AGE": 0 if pool else int(os.environ.get("CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,  # with a pool: the pool checks a connection before handing it out
            "OPTIONS": options,
        }
    raise ValueError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use postgresql:// or sqlite:///)")


def connection_pool_options() -> dict | None:
    """psycopg_pool options for the PostgreSQL connection pool of one server process, or None
    when `DATABASE_POOL_MAX=0` turns pooling off (then connections persist per thread, CONN_MAX_AGE).

    Under ASGI Django serves each request on a new thread; without a pool each request
    would open a new PostgreSQL connection. One Daphne process seldom has more than a
    few requests in the database at once, so a few connections suffice; a request that
    finds all `DATABASE_POOL_MAX` busy waits up to `DATABASE_POOL_TIMEOUT` seconds.
    """
    max_size = int(os.environ.get("DATABASE_POOL_MAX", "8"))
    if max_size <= 0:
        return None
    return {
        "min_size": min(max_size, int(os.environ.get("DATABASE_POOL_MIN", "2"))),
        "max_size": max_size,
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
        "max_idle": 300,  # seconds before connections beyond min_size are closed
        "max_lifetime": 3600,  # connections are renewed hourly
    }


def sqlite_database(path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Request threads are pooled (orchestrator/request_threads.py), so a thread's connection serves
        # request after request: opening and closing one per request cost a sixth of a small request.
        "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", "60")),
        "OPTIONS": {
            # WAL lets the dashboard read while ingestion writes; IMMEDIATE avoids lock-upgrade deadlocks.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }


def broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL")
    return url or "filesystem://"


def embedded_broker_options() -> dict:
    folder = orchestrator_home() / "broker"
    for sub in ("in", "processed", "control"):
        private_dir(folder / sub)
    return {
        "data_folder_in": str(folder / "in"),
        "data_folder_out": str(folder / "in"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


def channel_redis_host(url: str) -> dict:
    """A channels-redis host entry for REDIS_URL.

    redis-py 8 reads with a 5 s socket timeout by default, as long as the 5 s blocking pop
    with which channels-redis waits for messages: every idle websocket would die after 5 s.
    """
    return {"address": url, "socket_timeout": 30}
