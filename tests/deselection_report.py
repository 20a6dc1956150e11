"""A pytest plugin for `make test` (tests/run.py loads it with `-p`): writes the node ids of
the deselected PostgreSQL-only tests, one a line, to the file named by
MAKE_TEST_DESELECTED_FILE, so the closing lines can count and name them."""
from __future__ import annotations

import os

import pytest


def pytest_deselected(items: list[pytest.Item]) -> None:
    path = os.environ.get("MAKE_TEST_DESELECTED_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.writelines(f"{item.nodeid}\n" for item in items if item.get_closest_marker("postgres"))
