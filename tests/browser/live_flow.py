"""The flow the browser tests watch: it advances only when the test opens a gate
(creates a file), so the test can see each state while it lasts. `explode` fails.

    python tests/browser/live_flow.py GATE_DIR      (ORCHESTRATOR_API_URL/KEY set)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import sdk
from sdk import flow, get_run_logger, task

FLOW_NAME = "browser-live-flow"
NEEDLE = "needle-4711"
FAILURE = "the browser test's intended failure"
GATES = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")


def wait_for_gate(name: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not (GATES / name).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {name} was never opened")
        time.sleep(0.05)


@task(name="load-rows")
def load_rows() -> int:
    get_run_logger().info("loading rows")
    wait_for_gate("finish-load")
    return 3


@task(name="explode")
def explode(rows: int) -> None:
    logger = get_run_logger()
    logger.info("searching for %s in %d rows", NEEDLE, rows)
    logger.warning("an unrelated warning")
    raise ValueError(FAILURE)


@flow(name=FLOW_NAME)
def browser_live_flow() -> None:
    rows = load_rows()
    wait_for_gate("run-explode")
    explode(rows)


if __name__ == "__main__":
    try:
        browser_live_flow()
    except ValueError:
        pass  # the failure is the point
    sys.exit(0 if sdk.flush(timeout=30) else 1)
