"""Two small, realistic flows that show what the SDK records (`make up` loads them once).

    .venv/bin/python examples/demo_flow.py

`daily-revenue` fetches a few "orders", prices them concurrently with `.map()`,
retries a flaky pricing call that succeeds on its second attempt, logs a summary,
and lets an optional notification task fail without failing the flow.

`warehouse-sync` fails: its `load-rows` task finds the warehouse "offline" (a flag
file under ORCHESTRATOR_HOME that this script sets and the failure clears), so
the run ends Failed, and a Retry of it (or of the flow run) succeeds.

With ORCHESTRATOR_API_URL set, every run, state and log line is also reported.
"""
from __future__ import annotations

import os
from pathlib import Path

import sdk
from sdk import allow_failure, flow, get_run_logger, tags, task, unmapped

_pricing_calls = {"count": 0}


@task
def fetch_orders(day: str) -> list[dict]:
    return [{"id": i, "sku": sku, "qty": qty} for i, (sku, qty) in enumerate([("tea", 2), ("cup", 1), ("pot", 3)])]


@task(retries=2, retry_delay_seconds=0.2)
def current_prices(currency: str) -> dict[str, float]:
    _pricing_calls["count"] += 1
    if _pricing_calls["count"] == 1:
        raise ConnectionError("pricing service timed out (this one is on purpose; the retry succeeds)")
    return {"tea": 4.5, "cup": 7.0, "pot": 21.0}


@task(task_run_name="price-order-{order[id]}")
def price_order(order: dict, prices: dict[str, float]) -> float:
    return order["qty"] * prices[order["sku"]]


@task
def notify_sales(total: float) -> None:
    raise RuntimeError("the chat webhook is not configured (on purpose: this failure is allowed)")


@task(log_prints=True)
def report(total: float, notification: object) -> str:
    status = "sent" if notification is None else f"skipped ({type(notification).__name__})"
    print(f"Daily revenue: {total:.2f} EUR; notification {status}")
    return f"{total:.2f}"


@flow(name="daily-revenue", log_prints=True)
def daily_revenue(day: str = "2026-11-26") -> str:
    logger = get_run_logger()
    orders = fetch_orders(day)
    prices = current_prices.submit("EUR")
    amounts = price_order.map(orders, unmapped(prices))
    total = sum(amounts.result())
    logger.info("Priced %d orders for %s", len(orders), day)
    notified = notify_sales.submit(total)
    return report(total, allow_failure(notified))


def warehouse_offline_flag() -> Path:
    """While this file exists the warehouse is "offline"; the next load fails and removes it."""
    home = os.environ.get("ORCHESTRATOR_HOME") or Path.home() / ".orchestrator"
    return Path(home) / "demo" / "warehouse-offline"


@task
def extract_rows(table: str) -> list[dict]:
    return [{"table": table, "row": n} for n in range(5)]


@task(name="load-rows")
def load_rows(rows: list[dict]) -> int:
    flag = warehouse_offline_flag()
    if flag.exists():
        flag.unlink(missing_ok=True)
        raise ConnectionError(
            "the warehouse refused the connection (on purpose: this demo task fails once; press Retry and it succeeds)"
        )
    get_run_logger().info("Loaded %d rows", len(rows))
    return len(rows)


@flow(name="warehouse-sync")
def warehouse_sync(table: str = "orders") -> int:
    return load_rows(extract_rows(table))


def main() -> None:
    flag = warehouse_offline_flag()
    flag.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flag.touch()
    with tags("demo"):
        daily_revenue()
        try:
            warehouse_sync()
        except ConnectionError:
            print("warehouse-sync failed on purpose: its Retry succeeds")
    sdk.flush(timeout=10)


if __name__ == "__main__":
    main()
