"""`make test`: run every suite, each against the databases it must pass on.

Phase "sqlite":   every test, on the embedded defaults (SQLite, no Redis needed).
Phase "postgres": the server suites again, on PostgreSQL at 127.0.0.1:5432.
Phase "browser":  suites that need PostgreSQL + Redis + Chromium together (BROWSER_SUITES).

Under CI=true a missing service fails the run. Elsewhere the phases that need
it are skipped, and the last lines say so.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "test-results"
SERVER_SUITES = ["tests/orchestrator", "tests/api", "tests/shipping", "tests/dashboard"]
BROWSER_SUITES = ["tests/browser"]
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/orchestrator")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def postgres_problem() -> str | None:
    if not reachable("127.0.0.1", 5432):
        return "nothing listens on 127.0.0.1:5432"
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=5) as conn:
            conn.execute("select 1")
    except Exception as exc:  # report any failure to connect as the reason
        return f"cannot connect: {exc}".strip()
    return None


def browser_problem() -> str | None:
    """Why the browser phase cannot run (PostgreSQL is checked on its own)."""
    redis = REDIS_URL.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = redis.rpartition("@")[2].partition(":")
    if not reachable(host or "127.0.0.1", int(port or 6379)):
        return f"nothing listens at {REDIS_URL}"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


def counts(xml_path: Path) -> tuple[int, int, int]:
    if not xml_path.exists():
        return 0, 0, 0
    root = ET.parse(xml_path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = failures = skipped = 0
    for s in suites:
        tests += int(s.get("tests", 0))
        failures += int(s.get("failures", 0)) + int(s.get("errors", 0))
        skipped += int(s.get("skipped", 0))
    return tests - failures - skipped, failures, skipped


def run_phase(name: str, paths: list[str], env_overrides: dict[str, str | None], extra: list[str]) -> int:
    env = dict(os.environ)
    home = tempfile.mkdtemp(prefix=f"orch-test-{name}-")
    env["ORCHESTRATOR_HOME"] = home
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    xml = RESULTS / f"{name}.xml"
    cmd = [sys.executable, "-m", "pytest", *paths, f"--junitxml={xml}", "-o", "junit_family=xunit2", *extra]
    print(f"\n===== make test: phase {name}: {' '.join(cmd[3:])}", flush=True)
    try:
        rc = subprocess.call(cmd, cwd=ROOT, env=env)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0 if rc == 5 else rc  # 5: the phase collected no test


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    for old in RESULTS.glob("*.xml"):
        old.unlink()
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    extra = sys.argv[1:]
    skipped_suites: list[str] = []
    failed_phases: list[str] = []

    pg = postgres_problem()
    if pg and ci:
        print(f"make test: PostgreSQL is required under CI=true and is not usable: {pg}", file=sys.stderr)
        return 1

    sqlite_env = {"DATABASE_URL": None, "REDIS_URL": None, "CELERY_BROKER_URL": None}
    if run_phase("sqlite", ["tests"], sqlite_env, ["-m", "not postgres and not browser", *extra]):
        failed_phases.append("sqlite")

    suites = [s for s in SERVER_SUITES if (ROOT / s).is_dir()]
    if pg:
        skipped_suites.append(f"{', '.join(suites)} on PostgreSQL: {pg}")
    elif suites:
        if run_phase("postgres", suites, {"DATABASE_URL": POSTGRES_URL}, extra):
            failed_phases.append("postgres")

    browser_suites = [s for s in BROWSER_SUITES if (ROOT / s).is_dir()]
    browser = pg or browser_problem()
    if browser and browser_suites:
        if ci:
            print(f"make test: the browser phase is required under CI=true and cannot run: {browser}", file=sys.stderr)
            failed_phases.append("browser")
        else:
            skipped_suites.append(f"{', '.join(browser_suites)} (PostgreSQL + Redis + Chromium): {browser}")
    elif browser_suites:
        browser_env = {"DATABASE_URL": POSTGRES_URL, "TEST_REDIS_URL": REDIS_URL, "REDIS_URL": None}
        if run_phase("browser", browser_suites, browser_env, extra):
            failed_phases.append("browser")

    print("\n===== make test summary")
    total = [0, 0, 0]
    for xml in sorted(RESULTS.glob("*.xml")):
        p, f, s = counts(xml)
        total = [total[0] + p, total[1] + f, total[2] + s]
        print(f"  phase {xml.stem:9s} {p} passed, {f} failed, {s} skipped")
    if failed_phases:
        print(f"  FAILED phases: {', '.join(failed_phases)}")
    for why in skipped_suites:
        print(f"  !!! SKIPPED SUITE: {why}")
    print(f"total: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 1 if failed_phases else 0


if __name__ == "__main__":
    sys.exit(main())
