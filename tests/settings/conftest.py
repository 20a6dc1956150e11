"""Settings are read once, when Django starts: each test starts a fresh Python process
with the environment it sets, and reads the settings back from that process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Variables that decide the settings under test: removed so the machine's own values cannot leak in.
SETTINGS_VARIABLES = ["SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "HTTPS", "HSTS_SECONDS", "HSTS_INCLUDE_SUBDOMAINS",
                      "HSTS_PRELOAD", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"]


def environment(home: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env["ORCHESTRATOR_HOME"] = str(home)
    env["DJANGO_SETTINGS_MODULE"] = "orchestrator.settings"
    env.update(overrides)
    return env


def read_settings(home: Path, names: list[str], **overrides: str) -> dict:
    """The values of `names` in a fresh process whose environment has `overrides`."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}, default=str))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment(home, **overrides),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def manage(home: Path, *args: str, **overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment(home, **overrides),
                          capture_output=True, text=True, timeout=180)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "orchestrator-home"
