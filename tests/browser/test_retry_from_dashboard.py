"""In a real browser: press Retry on the failed task of a served flow; the page shows it turn Completed, live.

Runs the demo flow (examples/demo_flow.py) against a real stack (Daphne, Redis, a task
worker serving the demo flow), signs in as staff, opens the failed task run's page
(DOM per CONTRACTS §3: `#task-run-summary` with a state badge, a "Retry" button) and
presses Retry. The badge must become Completed without reloading the page.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.shipping.live_server import ROOT
from tests.workers.harness import CI, require_redis, running_stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def require_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "the playwright package is not installed"
    else:
        problem = None if shutil.which(CHROMIUM) else f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if problem:
        if CI:
            pytest.fail(f"browser tests are required under CI=true: {problem}")
        pytest.skip(f"!!! browser test skipped: {problem}")


@pytest.fixture(scope="module")
def demo_stack():
    require_browser()
    with running_stack(require_redis()) as stack:
        stack.start_worker("examples.demo_flow:daily_revenue", "examples.demo_flow:warehouse_sync")
        out = subprocess.run([sys.executable, "examples/demo_flow.py"], cwd=ROOT, env=stack.sdk_env(),
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        stack.server.env["DJANGO_SUPERUSER_PASSWORD"] = "browser-pass-1"
        stack.server.manage("createsuperuser", "--noinput", "--username", "ops", "--email", "ops@localhost")
        yield stack


def test_pressing_retry_turns_the_failed_task_completed_live(demo_stack):
    from playwright.sync_api import expect, sync_playwright

    failed = demo_stack.admin.get("/task-runs/", params={"state": "FAILED,CRASHED"}).json()["results"]
    assert sorted(r["task_name"] for r in failed) == ["load-rows", "notify_sales"]
    run_id = next(r["id"] for r in failed if r["task_name"] == "load-rows")
    base = demo_stack.server.url.removesuffix("/api")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{base}/login/?next=/task-runs/{run_id}/")
            page.fill("input[name=username]", "ops")
            page.fill("input[name=password]", "browser-pass-1")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/task-runs/{run_id}/")
            badge = page.locator("#task-run-summary .state-badge").first
            expect(badge).to_have_attribute("data-state-type", "FAILED")
            page.get_by_role("button", name="Retry", exact=True).click()
            expect(badge).to_have_attribute("data-state-type", "COMPLETED", timeout=60_000)
            expect(badge).to_have_text("Completed")
            assert page.url == f"{base}/task-runs/{run_id}/"
        finally:
            browser.close()
    assert demo_stack.run(run_id)["run_count"] == 2
