"""A person watches a real flow with a failing task, live, in the browser: the run's row
appears on `/`, its Gantt bars change state without a reload, the "Failed" preset lists
exactly the failing task, its page shows the traceback, and its logs can be searched.
The flow runs in a subprocess with the SDK, reporting to the live server like any user's."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import ROOT, STEP, log_in
from tests.browser.live_flow import FAILURE, FLOW_NAME, NEEDLE
from tests.shipping.live_server import wait_until

pytestmark = pytest.mark.live_browser
SAME_DOCUMENT = "window.__sameDocument = true"  # gone if the page reloads


class LiveFlow:
    """The flow of tests/browser/live_flow.py running in a subprocess, advanced gate by gate."""

    def __init__(self, server, workdir: Path) -> None:
        self.gates = workdir / "gates"
        self.gates.mkdir()
        home = workdir / "home"
        home.mkdir()
        env = {**os.environ, "ORCHESTRATOR_API_URL": server.url, "ORCHESTRATOR_API_KEY": server.key,
               "ORCHESTRATOR_HOME": str(home), "PYTHONPATH": str(ROOT)}
        self.output = workdir / "flow.log"
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests/browser/live_flow.py"), str(self.gates)],
                                         cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def open(self, gate: str) -> None:
        (self.gates / gate).touch()

    def finish(self) -> None:
        self.open("finish-load")
        self.open("run-explode")
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        assert code == 0, self.output.read_text()[-3000:]


@pytest.fixture(scope="module")
def live_flow(daphne_server, tmp_path_factory):
    daphne_server.db.clear()  # this module's failing task is the only one
    flow = LiveFlow(daphne_server, tmp_path_factory.mktemp("live-flow"))
    yield flow
    if flow.proc.poll() is None:
        flow.proc.kill()


@pytest.fixture(scope="module")
def finished_flow(live_flow, daphne_server) -> dict[str, str]:
    """The flow run to its end; its ids, read from the server's database."""
    live_flow.finish()

    def stored():
        rows = daphne_server.db._query(
            "SELECT t.id, t.task_name, t.state_type FROM orchestrator_taskrun t "
            "JOIN orchestrator_flowrun f ON f.id = t.flow_run_id JOIN orchestrator_flow fl ON fl.id = f.flow_id "
            f"WHERE fl.name = '{FLOW_NAME}' AND f.state_type = 'FAILED'"
        )
        return rows if {r[2] for r in rows} == {"COMPLETED", "FAILED"} else None

    rows = wait_until(stored, 30, message="the finished flow in the database")
    flow_run_id = daphne_server.db._query(f"SELECT flow_run_id FROM orchestrator_taskrun WHERE id = '{rows[0][0]}'")[0][0]
    return {"flow_run": str(flow_run_id), **{name: str(run_id) for run_id, name, _ in rows}}


def test_logging_in_lands_on_the_runs_list(anonymous_context, daphne_server, screenshot):
    page = anonymous_context.new_page()
    page.goto("/")
    page.wait_for_url(re.compile(r"/login/\?next=/$"))
    screenshot(page, "login")
    log_in(page)
    page.wait_for_url(f"{daphne_server.base_url}/")
    assert page.locator("header").get_by_text("ada").count() >= 1
    assert page.locator("#runs-body").count() == 1


# Where a running bar ends, in ms since the epoch, on the axis the page shows now (the axis may move on).
BAR_END = """() => {
  const gantt = document.getElementById("gantt"), bar = gantt && gantt.querySelector("rect[data-since]");
  if (!bar) return null;
  const start = Number(gantt.dataset.axisStart), end = Number(gantt.dataset.axisEnd);
  return start + (Number(bar.getAttribute("x")) + Number(bar.getAttribute("width"))) / 1000 * (end - start);
}"""


def test_running_bar_and_duration_grow_between_pushes(signed_in_context, live_flow, screenshot):
    from playwright.sync_api import expect

    runs = signed_in_context.new_page()
    runs.goto("/")
    row = runs.locator('#runs-body tr[id^="flow-run-"]')
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-state-type", "RUNNING")
    flow_run_id = row.get_attribute("id").removeprefix("flow-run-")

    page = signed_in_context.new_page()
    frames: list = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
    page.goto(f"/flow-runs/{flow_run_id}/")
    expect(page.locator("body.is-live")).to_have_count(1)
    expect(page.locator('#gantt rect[data-since]')).to_have_count(1)  # load-rows runs until the test lets it finish
    page.wait_for_function("() => document.querySelector('#gantt .gantt-dur[data-since]')")
    for _ in range(100):  # the refresh every (re)connect gets; any frame after it fails the test
        if frames:
            break
        page.wait_for_timeout(50)
    assert frames, "the page's refresh never came"
    pushed = len(frames)
    first_end = page.evaluate(BAR_END)
    first_duration = page.locator("#gantt .gantt-dur[data-since]").text_content()
    # Two seconds of running later, the bar reaches further and the duration counts on, with no push.
    page.wait_for_function(f"() => ({BAR_END})() >= {first_end} + 2000", timeout=10_000)
    expect(page.locator("#gantt .gantt-dur[data-since]")).not_to_have_text(first_duration)
    assert len(frames) == pushed, "the bar grew because of a push, not by itself"
    # When now passes the axis's renewal point (80% of its span), the page fetches the next axis itself.
    axis_end = int(page.locator("#gantt").get_attribute("data-axis-end"))
    page.wait_for_function(f"() => Number(document.getElementById('gantt').dataset.axisEnd) > {axis_end}",
                           timeout=20_000)
    expect(page.locator('#gantt rect[data-since]')).to_have_count(1)
    assert page.evaluate(BAR_END) <= int(page.locator("#gantt").get_attribute("data-axis-end"))
    assert len(frames) == pushed, "the axis moved on because of a push, not by itself"
    # Running durations elsewhere tick too: the flow run's own, and its row on the runs list.
    summary = page.locator("#flow-run-summary [data-since]")
    before = summary.text_content()
    expect(summary).not_to_have_text(before, timeout=5_000)
    cell = row.locator("[data-since]")
    before = cell.text_content()
    expect(cell).not_to_have_text(before, timeout=5_000)
    screenshot(page, "gantt-growing")
    page.close()
    runs.close()


def test_runs_and_gantt_update_live_without_reloading(signed_in_context, live_flow, screenshot):
    from playwright.sync_api import expect

    runs = signed_in_context.new_page()
    runs.goto("/")
    runs.evaluate(SAME_DOCUMENT)
    row = runs.locator('#runs-body tr[id^="flow-run-"]')
    expect(row).to_have_count(1)  # appears while the flow waits at its first gate
    expect(row).to_have_attribute("data-state-type", "RUNNING")
    flow_run_id = row.get_attribute("id").removeprefix("flow-run-")
    screenshot(runs, "runs-running")

    gantt = signed_in_context.new_page()
    gantt.goto(f"/flow-runs/{flow_run_id}/")
    gantt.evaluate(SAME_DOCUMENT)
    bars = gantt.locator('#gantt [id^="task-run-"][data-state-type]')
    expect(bars).to_have_count(1)
    expect(bars.first).to_have_attribute("data-state-type", "RUNNING")
    screenshot(gantt, "gantt-running")

    live_flow.open("finish-load")
    expect(bars.first).to_have_attribute("data-state-name", "Completed")
    live_flow.open("run-explode")
    expect(bars).to_have_count(2)
    expect(gantt.locator('#gantt [data-state-type="FAILED"]')).to_have_count(1)
    expect(gantt.locator("#flow-run-summary [data-state-type]").first).to_have_attribute("data-state-type", "FAILED")
    expect(row).to_have_attribute("data-state-type", "FAILED")
    screenshot(gantt, "gantt-failed")
    screenshot(runs, "runs-failed")
    assert runs.evaluate("window.__sameDocument") and gantt.evaluate("window.__sameDocument"), "a page reloaded"


def test_failed_preset_lists_exactly_the_failing_task(signed_in_context, finished_flow, screenshot):
    from playwright.sync_api import expect

    page = signed_in_context.new_page()
    page.goto("/task-runs/")
    page.get_by_role("link", name="Failed", exact=True).or_(page.get_by_role("button", name="Failed", exact=True)).first.click()
    page.wait_for_url(re.compile(r"/task-runs/\?(.*&)?state=FAILED(,|%2C)CRASHED"))
    rows = page.locator('[id^="task-run-row-"]')
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_id(f"task-run-row-{finished_flow['explode']}")
    screenshot(page, "failed-task-runs")


def test_failing_task_page_shows_its_traceback(signed_in_context, finished_flow, screenshot):
    from playwright.sync_api import expect

    page = signed_in_context.new_page()
    page.goto("/task-runs/?state=FAILED,CRASHED")
    page.locator(f"#task-run-row-{finished_flow['explode']} a[href*='{finished_flow['explode']}']").first.click()
    page.wait_for_url(re.compile(rf"/task-runs/{finished_flow['explode']}/$"))
    expect(page.locator("#task-run-summary [data-state-type]").first).to_have_attribute("data-state-type", "FAILED")
    traceback = page.locator("pre#traceback")
    expect(traceback).to_contain_text("ValueError")
    expect(traceback).to_contain_text(FAILURE)
    expect(traceback).to_contain_text("Traceback")
    screenshot(page, "task-run")


def test_task_logs_can_be_searched(signed_in_context, finished_flow, screenshot):
    from playwright.sync_api import expect

    page = signed_in_context.new_page()
    page.goto(f"/task-runs/{finished_flow['explode']}/")
    lines = page.locator('#logs [id^="log-"]')
    expect(lines.filter(has_text="an unrelated warning")).to_have_count(1)
    search = page.locator('input[name="q"]')
    search.fill(NEEDLE)
    search.press("Enter")
    expect(lines.filter(has_text="an unrelated warning")).to_have_count(0, timeout=STEP)
    expect(lines.filter(has_text=NEEDLE)).to_have_count(1)
    expect(lines.filter(has_not_text=NEEDLE)).to_have_count(0)
    screenshot(page, "task-run-log-search")
