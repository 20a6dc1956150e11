"""The hostile-input test modules, run by the soak: how many inputs they tried and how many 5xx came back.

They run in their own pytest process on SQLite (no services), with tests/soak/count_5xx.py
counting every request and every 5xx answer; hypothesis's statistics give the examples tried.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.shipping.live_server import ROOT

MODULES = ["tests/orchestrator/test_ingest_hostile_input.py", "tests/api/test_hostile_input.py"]


@dataclass
class HostileTests:
    cases: int  # pytest test cases collected
    examples: int  # inputs hypothesis generated within them
    generating_cases: int  # the cases that are hypothesis tests
    requests: int
    server_errors: int
    failed: int
    output: str

    @property
    def inputs(self) -> int:
        """Inputs tried: every generated example, plus one for each hand-written case."""
        return self.examples + self.cases - self.generating_cases


def run_hostile_tests(workdir: Path) -> HostileTests:
    report = workdir / "hostile-5xx.json"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SOAK_5XX_REPORT"] = str(report)
    out = subprocess.run([sys.executable, "-m", "pytest", *MODULES, "-q", "-p", "no:cacheprovider",
                          "-p", "tests.soak.count_5xx", "--hypothesis-show-statistics"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    text = out.stdout + out.stderr
    counts = json.loads(report.read_text()) if report.exists() else {"requests": 0, "server_errors": 0}

    def outcome(word: str) -> int:
        found = re.search(rf"(\d+) {word}", text.splitlines()[-1] if text.strip() else "")
        return int(found[1]) if found else 0

    generated = re.findall(r"(\d+) passing, (\d+) failing", text)  # one line per hypothesis test
    examples = sum(int(passing) + int(failing) for passing, failing in generated)
    return HostileTests(outcome("passed") + outcome("failed") + outcome("error"), examples, len(generated),
                        counts["requests"],
                        counts["server_errors"], outcome("failed") + outcome("error") + (1 if out.returncode > 1 else 0),
                        text)
