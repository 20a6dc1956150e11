"""A small, realistic flow that shows what the SDK prints (run by `make up`).

    python examples/demo_flow.py

It fetches a few "orders", enriches them concurrently with `.map()`, retries a
flaky pricing call that succeeds on its second attempt, logs a summary, and
lets an optional notification task fail without failing the flow. With
ORCHESTRATOR_API_URL set, every run, state and log line is also reported.

`make up` also starts a task worker serving this flow (and so its tasks):
press Retry on the failed `notify_sales` run in the dashboard and it completes,
with the same id and run count 2 (the webhook "works" on a second attempt).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sdk  # noqa: E402
from sdk import allow_failure, flow, get_run_context, get_run_logger, tags, task, unmapped  # noqa: E402

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
    if get_run_context().task_run.run_count == 1:
        raise RuntimeError("the chat webhook timed out (on purpose: this failure is allowed; retry it from the dashboard)")
    get_run_logger().info("Sent the daily revenue (%.2f EUR) to #sales", total)


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


def main() -> None:
    with tags("demo"):
        daily_revenue()
    sdk.flush(timeout=5)


if __name__ == "__main__":
    # Run the module's importable copy: task keys hash the module name, and the worker that
    # `make up` starts serves `examples.demo_flow`, not `__main__`.
    from examples.demo_flow import main as run_demo

    run_demo()
