"""What `manage.py up` keeps for a local install: the login, the demo API key, the demo data marker.

Files under ORCHESTRATOR_HOME that hold secrets are created readable by this user only.
"""
from __future__ import annotations

import hashlib
import io
import ipaddress
import os
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command

from orchestrator.config import private_dir
from orchestrator.models import FlowRun

DEMO_USER = "admin"
DEMO_PASSWORD = "admin"  # only ever on a loopback address
DEMO_KEY_NAME = "make up (local demo)"
# The flows of examples/demo_flow.py: when a database has runs of them, the demo was loaded there.
DEMO_FLOW_NAMES = ("daily-revenue", "warehouse-sync")


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Login:
    username: str
    password: str | None  # None: the user existed already, its password is the one they set
    generated: bool = False  # a random password, shown this once


def ensure_login(host: str) -> Login:
    """The demo superuser: admin/admin on loopback, a random password elsewhere; never reset."""
    User = get_user_model()
    if User.objects.filter(username=DEMO_USER).exists():
        return Login(DEMO_USER, None)
    loopback = is_loopback(host)
    password = DEMO_PASSWORD if loopback else secrets.token_urlsafe(12)
    User.objects.create_superuser(DEMO_USER, "admin@localhost", password)
    return Login(DEMO_USER, password, generated=not loopback)


def write_private_file(path: Path, text: str) -> None:
    """Write `text` to a file that is mode 0600 from the moment it exists."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w") as file:
        file.write(text)


def read_private_file(path: Path) -> str | None:
    """The file's text, after tightening it to 0600 if others could read it; None if it is missing."""
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def database_identity(database: dict) -> str:
    """A string naming one database: the SQLite file, or PostgreSQL's host, port and name."""
    if "sqlite" in database["ENGINE"]:
        return f"sqlite:{Path(str(database['NAME'])).resolve()}"
    return f"postgresql:{database.get('USER', '')}@{database.get('HOST', '')}:{database.get('PORT', '')}/{database['NAME']}"


def demo_key_path(home: Path, database: dict) -> Path:
    """One demo key file per database, so a key printed for one database keeps working there."""
    digest = hashlib.sha256(database_identity(database).encode()).hexdigest()[:16]
    return home / "demo-api-keys" / f"{digest}.key"


def key_works(api_url: str, key: str) -> bool:
    """Does the running server accept `key`? (It checks the database the key must belong to.)"""
    request = urllib.request.Request(f"{api_url}/workers/", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def ensure_demo_api_key(home: Path, database: dict, api_url: str) -> str:
    """The admin-scope key kept for this database, issued anew when it is missing or not accepted."""
    path = demo_key_path(home, database)
    key = read_private_file(path)
    if key and key_works(api_url, key):
        return key
    out = io.StringIO()
    call_command("createapikey", DEMO_KEY_NAME, scope="admin", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip().splitlines()[-1]
    write_private_file(path, key + "\n")
    path.with_suffix(".database").write_text(database_identity(database) + "\n")  # which database, for people
    return key


def demo_loaded() -> bool:
    return FlowRun.objects.filter(flow__name__in=DEMO_FLOW_NAMES).exists()
