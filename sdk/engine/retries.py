"""Retry policy: whether a failed attempt is retried, and after how long (Prefect 3 semantics).

`retry_delay_seconds` is a number, a list of numbers (the n-th retry waits
the n-th delay; the last one repeats), or a callable `f(retries) -> list`
evaluated once when the task is defined. `retry_jitter_factor` spreads each
delay over `delay * (1 ± factor)` (never below zero). `retry_condition_fn(task,
task_run, state)` may veto a retry.
"""
from __future__ import annotations

import logging
import numbers
import random
from typing import Any, Callable

__all__ = ["normalize_delays", "check_retries", "check_jitter", "next_delay", "exponential_backoff"]


def check_retries(retries: Any) -> int:
    if retries is None:
        return 0
    if type(retries) is not int or retries < 0:
        raise TypeError(f"retries must be a non-negative int, got {retries!r}")
    return retries


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value >= 0


def normalize_delays(delay: Any, retries: int) -> float | list[float]:
    """A number or a non-empty list of numbers; TypeError naming what was wrong."""
    if delay is None:
        return 0.0
    if callable(delay):
        delay = delay(retries)
        where = "the list returned by retry_delay_seconds(retries)"
    else:
        where = "retry_delay_seconds"
    if _is_number(delay):
        return float(delay)
    if isinstance(delay, (list, tuple)) and delay and all(_is_number(d) for d in delay):
        return [float(d) for d in delay]
    raise TypeError(
        f"{where} must be a non-negative number, a non-empty list of them, or a callable "
        f"f(retries) -> list; got {type(delay).__name__}: {delay!r}"
    )


def check_jitter(factor: Any) -> float | None:
    if factor is None:
        return None
    if not _is_number(factor):
        raise TypeError(f"retry_jitter_factor must be a non-negative number, got {factor!r}")
    return float(factor)


def next_delay(delays: float | list[float], *, jitter: float | None = None, retries_done: int) -> float:
    """The wait before the next attempt, after `retries_done` retries."""
    delay = delays if isinstance(delays, float) else delays[min(retries_done, len(delays) - 1)]
    if jitter:
        delay = max(0.0, delay * (1 + random.uniform(-jitter, jitter)))
    return delay


def condition_allows(condition: Callable[..., Any] | None, task: Any, task_run: Any, state: Any) -> bool:
    if condition is None:
        return True
    try:
        return bool(condition(task, task_run, state))
    except Exception:
        logging.getLogger("sdk.engine").exception(
            "retry_condition_fn %r raised; the run is not retried", condition)
        return False


def exponential_backoff(backoff_factor: float) -> Callable[[int], list[float]]:
    """`retry_delay_seconds=exponential_backoff(10)`: waits of 10, 20, 40, ... seconds (Prefect's helper)."""
    if not _is_number(backoff_factor):
        raise TypeError(f"backoff_factor must be a non-negative number, got {backoff_factor!r}")

    def delays(retries: int) -> list[float]:
        return [backoff_factor * 2**attempt for attempt in range(max(retries, 1))]

    return delays
