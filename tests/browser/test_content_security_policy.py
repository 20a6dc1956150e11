"""A real browser (Chromium through Playwright) on a live Daphne server: every page works
under the Content Security Policy, and script that gets into a page does not run: user
strings are escaped, and an inline script injected into the DOM is blocked by the policy.

Needs /usr/bin/chromium (Debian's package). Under CI=true a missing browser fails these
tests; elsewhere they are skipped, and `make test` names the skipped suite.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

import pytest

from tests.run import CHROMIUM, browser_problem
from tests.shipping.live_server import Server, running_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
USERNAME, PASSWORD = "csp-admin", "csp-admin-password-1"
HOSTILE = '<script>window.__xss = 1; alert("xss")</script><img src="x" id="injected-img" onerror="window.__xss = 2">'
WAIT_MS = 30_000  # generous: a loaded 2-core machine; every wait below awaits an event up to this bound

# Pages that must work under the policy; grows as the dashboard grows.
PAGES = {
    "/": "#flow-run-{run_id}",
    "/admin/": "#site-name",
    "/admin/api/apikey/": "#result_list",
    "/admin/orchestrator/flowrun/": "#result_list",
    "/admin/auth/user/add/": "#user_form",
    "/api/flow-runs/": ".response-info",
    "/api/docs/": ".swagger-ui .info .title",
}

# Installed before any page script: records every violation the browser reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push({directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample,
                              source: e.sourceFile + ':' + e.lineNumber});
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator:
    reason = browser_problem()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser tests are required under CI=true: {reason}")
        pytest.skip(f"BROWSER TESTS SKIPPED: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class LiveSite:
    server: Server
    hostile_run_id: str
    base: str = field(init=False)

    def __post_init__(self) -> None:
        self.base = self.server.url.removesuffix("/api")


def ingest_hostile_flow_run(server: Server) -> str:
    """A flow run whose name and flow name are script payloads, stored through the real API."""
    import httpx

    run_id = str(uuid.uuid4())
    event = {"id": str(uuid.uuid4()), "type": "flow_run.created", "seq": 0,
             "occurred": datetime.now(timezone.utc).isoformat(), "flow_run_id": run_id, "flow_name": HOSTILE,
             "name": HOSTILE, "parameters": {"payload": HOSTILE}, "tags": [], "parent_task_run_id": None,
             "parent_flow_run_id": None, "version": None,
             "state_type": "FAILED", "state_name": "Failed", "state_message": HOSTILE}
    response = httpx.post(f"{server.url}/events/", json={"events": [event]},
                          headers={"Authorization": f"Bearer {server.key}"}, timeout=30)
    assert response.status_code == 200 and response.json()["accepted"] == 1, response.text
    return run_id


@pytest.fixture(scope="module")
def site(browser) -> Iterator[LiveSite]:
    with running_server() as server:
        server.manage("shell", "-c", "from django.contrib.auth.models import User; "
                      f"User.objects.create_superuser({USERNAME!r}, password={PASSWORD!r})")
        yield LiveSite(server, ingest_hostile_flow_run(server))


@dataclass
class Watched:
    """A page and what went wrong on it: policy violations, script errors, dialogs."""
    page: object
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def violations(self) -> list[dict]:
        return self.page.evaluate("window.__cspViolations || []")


@pytest.fixture(scope="module")
def logged_in(browser, site: LiveSite) -> Iterator:
    context = browser.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{site.base}/login/", timeout=WAIT_MS)
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("button[type=submit]")
    assert page.url == f"{site.base}/", page.url
    page.close()
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def watched(logged_in) -> Iterator[Watched]:
    page = logged_in.new_page()
    watched = Watched(page)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on("console", lambda msg: watched.errors.append(msg.text) if msg.type == "error" else None)

    def on_dialog(dialog) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield watched
    finally:
        page.close()


def test_login_page_works_under_the_policy(browser, site):
    context = browser.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    try:
        response = page.goto(f"{site.base}/login/", timeout=WAIT_MS)
        assert response.status == 200
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page.wait_for_selector("input[name=password]", timeout=WAIT_MS)
        assert page.evaluate("window.__cspViolations") == []
    finally:
        context.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_page_works_under_the_policy(watched, site, path):
    response = watched.page.goto(site.base + path, timeout=WAIT_MS)
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The page's own scripts ran (Swagger UI draws its title from the schema it fetched).
    watched.page.wait_for_selector(PAGES[path].format(run_id=site.hostile_run_id), timeout=WAIT_MS)
    watched.page.wait_for_load_state("networkidle", timeout=WAIT_MS)
    assert watched.violations() == [], (path, watched.violations())
    assert watched.errors == [], path
    # Where a page loads htmx, htmx must not evaluate strings as code.
    assert watched.page.evaluate("typeof htmx === 'undefined' ? null : htmx.config.allowEval") in (None, False)


def test_swagger_ui_renders_the_operations(watched, site):
    watched.page.goto(f"{site.base}/api/docs/", timeout=WAIT_MS)
    watched.page.wait_for_selector("#operations-events-events_ingest", timeout=WAIT_MS)
    assert "Orchestrator API" in watched.page.inner_text(".swagger-ui .info .title")
    assert watched.violations() == []


def test_a_hostile_run_name_is_shown_as_text_and_never_runs(watched, site):
    watched.page.goto(f"{site.base}/", timeout=WAIT_MS)
    row = watched.page.wait_for_selector(f"#flow-run-{site.hostile_run_id}", timeout=WAIT_MS)
    assert '<script>window.__xss = 1; alert("xss")</script>' in row.inner_text()
    watched.page.wait_for_load_state("load", timeout=WAIT_MS)
    assert watched.page.evaluate("window.__xss === undefined")
    assert watched.page.query_selector("#injected-img") is None
    assert watched.dialogs == []


def test_an_inline_script_injected_into_the_page_is_blocked_by_the_policy(watched, site):
    watched.page.goto(f"{site.base}/", timeout=WAIT_MS)
    watched.page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.__injected = true; alert("injected")';
        document.body.appendChild(script);
    }""")
    watched.page.wait_for_function("window.__cspViolations.length > 0", timeout=WAIT_MS)
    assert watched.page.evaluate("window.__injected === undefined")
    assert watched.dialogs == []
    assert [v["directive"] for v in watched.violations()] == ["script-src-elem"]


def test_an_injected_event_handler_attribute_is_blocked_by_the_policy(watched, site):
    watched.page.goto(f"{site.base}/", timeout=WAIT_MS)
    watched.page.evaluate("""() => {
        document.body.insertAdjacentHTML('beforeend', '<img id="handler-img" src="/no-such-image.png" onerror="window.__handler = true">');
    }""")
    watched.page.wait_for_function("window.__cspViolations.some(v => v.directive === 'script-src-attr')",
                                   timeout=WAIT_MS)
    assert watched.page.evaluate("window.__handler === undefined")


def test_eval_is_refused_by_the_policy(watched, site):
    watched.page.goto(f"{site.base}/", timeout=WAIT_MS)
    # Run later from the page's own event loop: DevTools' evaluate itself is exempt from the policy.
    watched.page.evaluate("""() => setTimeout(() => {
        try { window.__evalOutcome = 'ran: ' + eval('6 * 7'); } catch (error) { window.__evalOutcome = error.name; }
    }, 0)""")
    watched.page.wait_for_function("window.__evalOutcome !== undefined", timeout=WAIT_MS)
    assert watched.page.evaluate("window.__evalOutcome") == "EvalError"
    assert "script-src" in [v["directive"] for v in watched.violations()]


def test_a_script_from_another_origin_is_blocked_by_the_policy(watched, site):
    watched.page.goto(f"{site.base}/", timeout=WAIT_MS)
    other_origin = site.base.replace("127.0.0.1", "localhost") + "/static/css/app.css"
    watched.page.evaluate("""(src) => {
        const script = document.createElement('script');
        script.src = src;
        document.body.appendChild(script);
    }""", other_origin)
    watched.page.wait_for_function("window.__cspViolations.length > 0", timeout=WAIT_MS)
    assert watched.violations()[0]["blocked"] == other_origin


# Every user-controlled field of every dashboard page: the payload closes attributes and tags too.
PAYLOAD = HOSTILE + '"\'><svg id="injected-svg" onload="window.__xss = 3"></svg>'
SHORT_PAYLOAD = "<svg onload=alert(1) id=x-inj>"  # for fields of at most 32 characters (state names)
COUNT_LIVE_FRAMES = "document.addEventListener('htmx:wsAfterMessage', () => { window.__frames = (window.__frames || 0) + 1; });"


@pytest.fixture(scope="module")
def hostile_runs(site: LiveSite) -> dict[str, str]:
    """A flow run, a failed task run under it, a log line and a worker: every text field a payload."""
    import httpx

    from tests.orchestrator.event_factory import at, flow_run_created, heartbeat, log, new_id, state, \
        task_run_created

    flow_run, task_run = new_id(), new_id()
    error = {"type": PAYLOAD, "message": PAYLOAD, "traceback": PAYLOAD}
    events = [
        flow_run_created(flow_run, at(0), flow_name=PAYLOAD, name=PAYLOAD, parameters={PAYLOAD: PAYLOAD},
                         tags=[PAYLOAD], state_message=PAYLOAD),
        task_run_created(task_run, flow_run, at(1), task_key=PAYLOAD[:200], task_name=PAYLOAD, name=PAYLOAD,
                         parameters={PAYLOAD: [PAYLOAD]}, tags=[PAYLOAD]),
        state("task_run", task_run, 1, at(2), "RUNNING", SHORT_PAYLOAD, run_count=1, flow_run_id=flow_run, message=PAYLOAD),
        log(2, at(2.5), PAYLOAD, flow_run_id=flow_run, task_run_id=task_run, logger=PAYLOAD),
        log(3, at(2.6), PAYLOAD, flow_run_id=flow_run, level=40, logger=PAYLOAD),
        state("task_run", task_run, 4, at(3), "FAILED", SHORT_PAYLOAD, run_count=1, flow_run_id=flow_run, message=PAYLOAD,
              error=error),
        state("flow_run", flow_run, 1, at(3.5), "FAILED", SHORT_PAYLOAD, run_count=1, message=PAYLOAD, error=error),
        {**heartbeat(PAYLOAD[:200], 1, at(4), task_keys=[PAYLOAD]), "hostname": PAYLOAD[:200], "flow_names": [PAYLOAD]},
    ]
    response = httpx.post(f"{site.server.url}/events/", json={"events": events},
                          headers={"Authorization": f"Bearer {site.server.key}"}, timeout=30)
    assert response.status_code == 200 and not response.json()["rejected"], response.text
    return {"flow_run": flow_run, "task_run": task_run}


def dashboard_pages(ids: dict[str, str]) -> list[str]:
    """Every dashboard page, plain and with the payload in every query parameter it reads."""
    from urllib.parse import urlencode

    q = lambda *names: "?" + urlencode({name: PAYLOAD for name in names})  # noqa: E731
    flow_run, task_run = f"/flow-runs/{ids['flow_run']}/", f"/task-runs/{ids['task_run']}/"
    return ["/", "/" + q("state", "flow", "tag", "range", "started_after", "started_before", "before"),
            flow_run, flow_run + q("page", "gantt", "q", "level", "before"),
            "/task-runs/", "/task-runs/" + q("state", "name", "task_key", "flow_run", "tag", "range", "started_after",
                                               "before"),
            task_run, task_run + q("q", "level", "before"), "/workers/", "/workers/" + q("q")]


@pytest.mark.parametrize("index", range(10))
def test_every_dashboard_page_shows_injection_payloads_as_text(watched, site, hostile_runs, index):
    path = dashboard_pages(hostile_runs)[index]
    watched.page.add_init_script(COUNT_LIVE_FRAMES)
    response = watched.page.goto(site.base + path, timeout=WAIT_MS)
    assert response.status in (200, 400), (path, response.status)
    watched.page.wait_for_load_state("load", timeout=WAIT_MS)
    if index % 2 == 0:  # the plain pages show the stored payloads, once rendered and once more over the websocket
        assert PAYLOAD[:40] in watched.page.inner_text("body"), path
        watched.page.wait_for_function("() => window.__frames > 0", timeout=WAIT_MS)
    assert watched.dialogs == [], path
    assert watched.page.evaluate("window.__xss === undefined"), path
    assert watched.page.query_selector_all("#injected-img, #injected-svg, #x-inj") == [], path
    assert watched.violations() == [], (path, watched.violations())
