"""Live browser tests (marked `live_browser`): headless Chromium (Debian's, through Playwright)
against a live Daphne on a fresh PostgreSQL database with REDIS_URL set, as a person would
use the dashboard. The fixtures here serve modules that ask for `daphne_server`.

Needs PostgreSQL (DATABASE_URL, as `make test`'s browser phase sets it), Redis
(TEST_REDIS_URL, default redis://127.0.0.1:6379/0) and /usr/bin/chromium. Without
them the tests skip, except under CI=true where they fail.

Every page gets a strict Content-Security-Policy when the server sends none, and a
test fails at teardown if any page logged a console error, threw, or broke the CSP.
Screenshots go to test-results/browser/.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.shipping.live_server import Server, fresh_database

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-results" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The last flag: documents fulfilled by add_strict_csp have no address space of their own, so Chromium's
# local-network checks would take them for public pages and block their websocket to 127.0.0.1.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-features=LocalNetworkAccessChecks"]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
USERNAME, PASSWORD = "ada", "browser-tests-password-1"
VIEWPORT = {"width": 1366, "height": 768}  # the laptop screen the dashboard must be readable on
STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
STEP = 30_000  # ms any one thing may take to appear in the browser on a loaded machine


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def missing_services() -> list[str]:
    missing = []
    database = os.environ.get("DATABASE_URL", "")
    if urlparse(database).scheme not in ("postgres", "postgresql"):
        missing.append("DATABASE_URL does not point at PostgreSQL")
    elif not _reachable(database, 5432):
        missing.append(f"PostgreSQL at {database} is not reachable")
    if not _reachable(REDIS_URL, 6379):
        missing.append(f"Redis at {REDIS_URL} is not reachable")
    if not Path(CHROMIUM).exists():
        missing.append(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright is not installed (requirements.txt)")
    return missing


@pytest.fixture(scope="session")
def daphne_server():
    """Daphne on a fresh PostgreSQL database with channels-redis, a user and an ingest key."""
    missing = missing_services()
    if missing:
        if CI:
            pytest.fail("browser tests need: " + "; ".join(missing))
        pytest.skip("browser tests need: " + "; ".join(missing))
    workdir = Path(tempfile.mkdtemp(prefix="orch-browser-"))
    database_url, db, drop = fresh_database(workdir)
    server = Server(workdir, database_url, db)
    server.env.update({"REDIS_URL": REDIS_URL, "DEBUG": "0"})
    server.base_url = f"http://127.0.0.1:{server.port}"
    try:
        server.manage("migrate", "--noinput")
        server.key = server.manage("createapikey", "browser-tests", "--scope", "ingest").strip().splitlines()[-1]
        server.manage("shell", "-c", "from django.contrib.auth import get_user_model; "
                      f"get_user_model().objects.create_user({USERNAME!r}, password={PASSWORD!r}, is_staff=True)")
        server.start()
        yield server
    finally:
        server.kill()
        drop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(daphne_server):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=STEP)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class BrowserProblems:
    """Console errors, uncaught exceptions and CSP violations of every page in a context."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def watch(self, page) -> None:
        page.on("console", lambda msg: msg.type == "error" and not msg.text.startswith(EXPECTED_CONSOLE_ERRORS)
                and self.problems.append(f"{page.url}: console: {msg.text}"))
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url}: uncaught: {exc}"))


# Names what broke the policy (the browser's own console message does not say where).
REPORT_CSP_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') +
                ' at ' + e.sourceFile + ':' + e.lineNumber + ' sample: ' + e.sample);
});
"""
# htmx reports an out-of-band element without a target as an error; static/js/live-page.js inserts
# such elements (new rows) on that very event, so it is part of the design, not a fault.
EXPECTED_CONSOLE_ERRORS = ("htmx:oobErrorNoTarget",)


def add_strict_csp(route) -> None:
    """Documents without a CSP of their own get a strict one, so inline script or style shows up as an error."""
    if route.request.resource_type != "document":
        route.continue_()
        return
    response = route.fetch(max_redirects=0)  # the browser follows redirects itself (and keeps their cookies)
    headers = dict(response.headers)
    if not any(name.lower() == "content-security-policy" for name in headers):
        headers["content-security-policy"] = STRICT_CSP
    route.fulfill(response=response, headers=headers)


def new_context(browser, daphne_server, **options):
    context = browser.new_context(base_url=daphne_server.base_url, viewport=VIEWPORT, **options)
    context.set_default_timeout(STEP)
    context.route("**/*", add_strict_csp)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    problems = BrowserProblems()
    context.on("page", problems.watch)
    return context, problems


def log_in(page, username: str = USERNAME, password: str = PASSWORD) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").or_(page.locator('form [type="submit"]')).first.click()


@pytest.fixture(scope="session")
def signed_in_state(browser, daphne_server, tmp_path_factory) -> str:
    """Cookies of a signed-in session, for contexts that start logged in."""
    context, _ = new_context(browser, daphne_server)
    page = context.new_page()
    page.goto("/login/")
    log_in(page)
    page.wait_for_url(f"{daphne_server.base_url}/")
    path = str(tmp_path_factory.mktemp("browser") / "signed-in.json")
    context.storage_state(path=path)
    context.close()
    return path


@pytest.fixture
def anonymous_context(browser, daphne_server):
    context, problems = new_context(browser, daphne_server)
    yield context
    context.close()
    assert not problems.problems, "\n".join(problems.problems)


@pytest.fixture
def signed_in_context(browser, daphne_server, signed_in_state):
    """A browser context already logged in as the test user; fails the test on any page error."""
    context, problems = new_context(browser, daphne_server, storage_state=signed_in_state)
    yield context
    context.close()
    assert not problems.problems, "\n".join(problems.problems)


@pytest.fixture
def screenshot(request):
    """screenshot(page, "name"): full-page PNGs, light and dark, under test-results/browser/ to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        """Light as the page is, then the same page dark (`-dark.png`): both themes get looked at."""
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(path.with_name(path.stem + "-dark.png")), full_page=True)
        page.emulate_media(color_scheme="light")
        return path

    return take
