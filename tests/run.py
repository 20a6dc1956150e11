"""`make test`: run every suite, each against the databases it must pass on.

Phase "sqlite":   every test, on the embedded defaults (SQLite, no Redis needed).
Phase "postgres": the server suites again, on PostgreSQL at 127.0.0.1:5432.
Phase "browser":  the browser tests marked `live_browser`, which need PostgreSQL, Redis
                  and Chromium together (a live Daphne on channels-redis).

Under CI=true a missing service (or browser) fails the run. Elsewhere the phases
or suites that need it are skipped, and the last lines say so. A phase that collects no test fails
(a typo in a path must not pass as green), and the PostgreSQL-only tests the
SQLite phase deselects are counted and named in the last lines, with the phase
that runs them, or a warning when none does.
The task-worker suite (tests/workers) starts real Celery workers on Redis at
TEST_REDIS_URL (default db 0), required under CI=true; its RabbitMQ variant runs when
RabbitMQ answers, else it is skipped loudly.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "test-results"
SERVER_SUITES = ["tests/orchestrator", "tests/api", "tests/shipping", "tests/dashboard", "tests/reliability", "tests/workers"]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BROWSER_SUITE = "tests/browser"  # Playwright driving Debian's Chromium; runs in the SQLite phase
CHROMIUM = Path("/usr/bin/chromium")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/orchestrator")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def redis_problem() -> str | None:
    address = REDIS_URL.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[2]
    host, _, port = address.partition(":")
    return None if reachable(host or "127.0.0.1", int(port or 6379)) else f"nothing listens at {REDIS_URL}"


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


def deselected_file(name: str) -> Path:
    return RESULTS / f"{name}.deselected"


def read_deselected(name: str) -> list[str]:
    path = deselected_file(name)
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line] if path.exists() else []


def describe_tests(node_ids: list[str]) -> list[str]:
    """`tests/x/test_y.py: test_a, test_b` per module."""
    by_module: dict[str, list[str]] = defaultdict(list)
    for node_id in node_ids:
        module, _, test = node_id.partition("::")
        by_module[module].append(test)
    return [f"{module}: {', '.join(tests)}" for module, tests in sorted(by_module.items())]


def run_phase(name: str, paths: list[str], env_overrides: dict[str, str | None], extra: list[str]) -> int:
    env = dict(os.environ)
    home = tempfile.mkdtemp(prefix=f"orch-test-{name}-")
    env["ORCHESTRATOR_HOME"] = home
    env["MAKE_TEST_DESELECTED_FILE"] = str(deselected_file(name))
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    xml = RESULTS / f"{name}.xml"
    cmd = [sys.executable, "-m", "pytest", *paths, f"--junitxml={xml}", "-o", "junit_family=xunit2",
           "-p", "tests.deselection_report", *extra]
    print(f"\n===== make test: phase {name}: {' '.join(cmd[3:])}", flush=True)
    try:
        rc = subprocess.call(cmd, cwd=ROOT, env=env)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if rc == 5:  # pytest: no test was collected (or every one was deselected)
        print(f"make test: phase {name} collected no tests from {' '.join(paths)}", file=sys.stderr)
    return rc


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    for old in [*RESULTS.glob("*.xml"), *RESULTS.glob("*.deselected")]:
        old.unlink()
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    extra = sys.argv[1:]
    skipped_suites: list[str] = []
    failed_phases: list[str] = []

    pg = postgres_problem()
    if pg and ci:
        print(f"make test: PostgreSQL is required under CI=true and is not usable: {pg}", file=sys.stderr)
        return 1
    redis = urlparse(REDIS_URL)
    if not reachable(redis.hostname or "127.0.0.1", redis.port or 6379):
        if ci:
            print(f"make test: Redis is required under CI=true (task-worker tests) and {REDIS_URL} does not answer",
                  file=sys.stderr)
            return 1
        skipped_suites.append(f"tests/workers on Redis: nothing answers at {REDIS_URL}")

    browser = browser_problem() if (ROOT / BROWSER_SUITE).is_dir() else None
    if browser and ci:
        print(f"make test: the browser tests are required under CI=true and cannot run: {browser}", file=sys.stderr)
        return 1
    sqlite_extra = ["-m", "not postgres and not live_browser"]
    if browser:
        skipped_suites.append(f"{BROWSER_SUITE}: {browser}")
        sqlite_extra.append(f"--ignore={BROWSER_SUITE}")

    sqlite_env = {"DATABASE_URL": None, "REDIS_URL": None, "CELERY_BROKER_URL": None}
    if run_phase("sqlite", ["tests"], sqlite_env, [*sqlite_extra, *extra]):
        failed_phases.append("sqlite")

    suites = [s for s in SERVER_SUITES if (ROOT / s).is_dir()]
    if pg:
        skipped_suites.append(f"{', '.join(suites)} on PostgreSQL: {pg}")
    elif suites:
        if run_phase("postgres", suites, {"DATABASE_URL": POSTGRES_URL}, extra):
            failed_phases.append("postgres")
    postgres_only = read_deselected("sqlite")
    outside_suites = [t for t in postgres_only if not any(t.startswith(s.rstrip("/") + "/") for s in suites)]
    never_run = postgres_only if pg else outside_suites
    if outside_suites:  # marked for PostgreSQL, but no phase would ever run them
        failed_phases.append("postgres (PostgreSQL-only tests outside SERVER_SUITES)")

    live = browser or pg or redis_problem() if (ROOT / BROWSER_SUITE).is_dir() else None
    if live and ci:
        print(f"make test: the live browser tests are required under CI=true and cannot run: {live}", file=sys.stderr)
        failed_phases.append("browser")
    elif live:
        skipped_suites.append(f"{BROWSER_SUITE} -m live_browser (PostgreSQL + Redis + Chromium): {live}")
    elif (ROOT / BROWSER_SUITE).is_dir():
        live_env = {"DATABASE_URL": POSTGRES_URL, "TEST_REDIS_URL": REDIS_URL, "REDIS_URL": None}
        if run_phase("browser", [BROWSER_SUITE], live_env, ["-m", "live_browser", *extra]):
            failed_phases.append("browser")

    print("\n===== make test summary")
    total = [0, 0, 0]
    for xml in sorted(RESULTS.glob("*.xml")):
        p, f, s = counts(xml)
        total = [total[0] + p, total[1] + f, total[2] + s]
        print(f"  phase {xml.stem:9s} {p} passed, {f} failed, {s} skipped")
    if failed_phases:
        print(f"  FAILED phases: {', '.join(failed_phases)}")
    if postgres_only:
        print(f"  deselected in phase sqlite (PostgreSQL only): {len(postgres_only)} tests, "
              f"{len(postgres_only) - len(never_run)} of them run in phase postgres")
        for line in describe_tests(postgres_only):
            print(f"    {line}")
    if never_run:
        print(f"  !!! NOT RUN: {len(never_run)} PostgreSQL-only tests ran in no phase "
              f"({'PostgreSQL phase skipped' if pg else 'outside SERVER_SUITES'})")
    for why in skipped_suites:
        print(f"  !!! SKIPPED SUITE: {why}")
    # The last line is the plain count CI reads: "total: N passed, N failed, N skipped".
    print(f"total: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 1 if failed_phases else 0


if __name__ == "__main__":
    sys.exit(main())
