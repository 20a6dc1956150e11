"""Bounded list responses: large fields are cut in lists, and a page stops at a byte budget.

A page of 1,000 logs of 1 MiB each would be a 1 GB response. In lists, text longer
than LIST_TEXT_CHARS is cut (ending in "…") and a JSON value longer than
LIST_JSON_CHARS once encoded is replaced by a marker; the item's `truncated` names
what was cut, and its detail endpoint has the full values. A page also ends early,
with a `next` link as usual, once its items add up to PAGE_BYTES.
"""
from __future__ import annotations

import json
from typing import Any

LIST_TEXT_CHARS = 4096
LIST_JSON_CHARS = 16 * 1024
PAGE_BYTES = 4 * 1024 * 1024
ITEM_OVERHEAD = 300  # keys, ids, timestamps: what every item costs besides its large fields
NOT_CUT = frozenset({"upstream_task_run_ids"})  # bounded at ingestion, and the timeline needs all of them


def encoded_length(value: Any) -> int:
    try:
        return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    except (TypeError, ValueError, RecursionError):
        return len(str(value))


def approximate_bytes(instance: Any) -> int:
    """What an item of a list response will weigh, after its large fields are cut."""
    size = ITEM_OVERHEAD
    for name, value in vars(instance).items():
        if isinstance(value, str):
            size += min(len(value), LIST_TEXT_CHARS)
        elif isinstance(value, (dict, list)):
            size += encoded_length(value) if name in NOT_CUT else min(encoded_length(value), LIST_JSON_CHARS)
    return size


def within_budget(items: list, budget: int | None = None) -> int:
    """How many items from the start fit in `budget` bytes (default PAGE_BYTES; always at least one)."""
    budget = PAGE_BYTES if budget is None else budget
    total = 0
    for count, item in enumerate(items):
        total += approximate_bytes(item)
        if total > budget and count > 0:
            return count
    return len(items)


def cut_text(value: str) -> str:
    return value[: LIST_TEXT_CHARS - 1] + "…"


def cut_for_list(data: dict, text_fields: tuple[str, ...], json_fields: tuple[str, ...]) -> dict:
    """Cut one serialized item's large fields in place (`state.message` names a nested field)."""
    truncated = []
    for path in text_fields:
        holder, key = _holder(data, path)
        if holder is not None and isinstance(holder.get(key), str) and len(holder[key]) > LIST_TEXT_CHARS:
            holder[key] = cut_text(holder[key])
            truncated.append(path)
    for path in json_fields:
        holder, key = _holder(data, path)
        value = holder.get(key) if holder is not None else None
        if isinstance(value, (dict, list)):
            length = encoded_length(value)
            if length > LIST_JSON_CHARS:
                holder[key] = {"truncated": True, "characters": length}
                truncated.append(path)
    if truncated:
        data["truncated"] = truncated
    return data


def _holder(data: dict, path: str) -> tuple[dict | None, str]:
    *parents, key = path.split(".")
    for parent in parents:
        data = data.get(parent) if isinstance(data, dict) else None
    return (data if isinstance(data, dict) else None), key
