"""Task.task_key: stable across processes, distinct per name and per function."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sdk import task

ROOT = Path(__file__).resolve().parents[2]


def first(x):
    return x


def second(x):
    return x


def test_task_key_is_name_plus_hash_of_qualified_name():
    t = task(first)
    assert t.task_key.startswith("first-") and len(t.task_key) > len("first-")


def test_same_function_and_name_give_the_same_key():
    assert task(first).task_key == task(first).task_key


def test_different_name_gives_a_different_key():
    assert task(first).task_key != task(name="other")(first).task_key


def test_different_function_gives_a_different_key():
    assert task(name="same")(first).task_key != task(name="same")(second).task_key


def test_task_key_is_the_same_in_another_process():
    code = (
        f"import sys, importlib; sys.path[:0] = [{str(ROOT)!r}, {str(Path(__file__).parent)!r}]; "
        f"m = importlib.import_module({first.__module__!r}); from sdk import task; print(task(m.first).task_key)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == task(first).task_key
