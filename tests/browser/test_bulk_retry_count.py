"""In a real browser: the Failed preset over more task runs than one bulk retry takes shows the
exact count, says plainly that "All matching" retries the newest 1,000 of them, and the bulk
retry then acts on exactly 1,000 (each refused here: no worker serves their key)."""
from __future__ import annotations

import httpx
import pytest

from orchestrator import retries
from tests.browser.conftest import STEP, new_context
from tests.orchestrator.event_factory import at, flow_run_created, new_id, state, task_run_created

pytestmark = pytest.mark.live_browser
FAILED_RUNS = retries.MAX_BULK + 234


def test_all_matching_count_and_the_bulk_limit(browser, daphne_server, signed_in_state, screenshot):
    from playwright.sync_api import expect

    daphne_server.db.clear()
    fr = new_id()
    events = [flow_run_created(fr, flow_name="bulk-failures")]
    ids = [new_id() for _ in range(FAILED_RUNS)]
    for i, tr in enumerate(ids):
        events += [task_run_created(tr, fr, at(1 + i / 1000), name=f"chunk-{i}"),
                   state("task_run", tr, 1, at(2 + i / 1000), "FAILED", run_count=1, flow_run_id=fr)]
    send(daphne_server, events)

    context, problems = new_context(browser, daphne_server, storage_state=signed_in_state)
    page = context.new_page()
    page.goto("/task-runs/?state=FAILED,CRASHED")
    expect(page.locator(".all-matching")).to_have_text(f"All matching ({FAILED_RUNS:,})")
    expect(page.locator("#bulk-limit")).to_have_text(
        f"“All matching” retries the newest 1,000 of {FAILED_RUNS:,} (at most 1,000 at once).")
    page.locator('input[name="all_matching"]').check()
    # A live refresh of the whole list (more than 50 rows changed) keeps the reader's tick.
    page.evaluate("document.getElementById('retry-selection').dataset.before = 'refresh'")
    send(daphne_server, [state("task_run", tr, 2, at(3 + i / 1000), "FAILED", name="TimedOut", run_count=1,
                               flow_run_id=fr) for i, tr in enumerate(ids[:60])])
    page.wait_for_function("() => !document.querySelector('#retry-selection[data-before]')", timeout=STEP)
    expect(page.locator('input[name="all_matching"]')).to_be_checked()
    expect(page.locator("#retry-selection.all-matching-on")).to_have_count(1)
    screenshot(page, "bulk-limit")
    page.get_by_role("button", name="Retry selected").click()
    # 1,000 retried or refused, not 1,234 and not an error: here no worker serves their key.
    expect(page.locator("#bulk-retry-outcome")).to_contain_text("1,000 refused: No live worker serves", timeout=60_000)
    screenshot(page, "bulk-outcome")
    context.close()
    # The one console line allowed: the refusal's 409, which the page shows beside the button.
    assert [p for p in problems.problems if "status of 409" not in p] == []


def send(server, events: list[dict]) -> None:
    response = httpx.post(f"{server.url}/events/", json={"events": events}, timeout=STEP / 1000,
                          headers={"Authorization": f"Bearer {server.key}"})
    assert response.status_code < 300, response.text
