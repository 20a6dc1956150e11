"""Schemathesis (`--checks all`) against a live server, authenticated, every endpoint.

Used by `make test` (a few examples per operation, fixed seed) and `make soak`
(many examples, random seed). The database is seeded first with runs, task runs,
states, logs and a worker, so the read endpoints answer with real rows and the
stateful phase can follow links between them.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.orchestrator.event_factory import (
    at, completed_task_run, flow_run_created, heartbeat, log, new_id, state, task_run_created,
)

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def seed_events() -> list[dict]:
    """One failed flow run with tasks, logs and tags; a bare flow run; a retried task; a worker."""
    flow_run = new_id()
    events = [flow_run_created(flow_run, at(0), tags=["nightly"]),
              state("flow_run", flow_run, 1, at(0.5), "RUNNING", run_count=1)]
    for i in range(3):
        events += completed_task_run(flow_run, start=1 + i)[1]
    failed = new_id()
    events += [
        task_run_created(failed, flow_run, at(5), initial=False, tags=["db"]),
        state("task_run", failed, 1, at(5.1), "RUNNING", run_count=1, flow_run_id=flow_run),
        state("task_run", failed, 2, at(5.2), "FAILED", run_count=1, flow_run_id=flow_run, message="boom"),
        state("task_run", failed, 3, at(5.3), "SCHEDULED", "AwaitingRetry", run_count=1, flow_run_id=flow_run),
        state("task_run", failed, 4, at(5.4), "RUNNING", "Retrying", run_count=2, flow_run_id=flow_run),
        state("task_run", failed, 5, at(5.5), "FAILED", "TimedOut", run_count=2, flow_run_id=flow_run),
        state("flow_run", flow_run, 9, at(9), "FAILED", run_count=1),
        log(10, at(9.5), "done <script>alert(1)</script>", flow_run_id=flow_run, level=40),
        heartbeat("host:1", 1, at(1), ["add-5f3a9c1e"]),
        flow_run_created(new_id(), at(20), initial=False),
    ]
    return events


@dataclass
class ContractRun:
    returncode: int
    generated: int
    failures: int
    server_errors: int
    output: str


def run_contract(base_url: str, api_key: str, workdir: Path, examples: int, seed: int | None,
                 timeout: float = 900) -> ContractRun:
    headers = {"Authorization": f"Bearer {api_key}"}
    seeded = httpx.post(f"{base_url}/api/events/", json={"events": seed_events()}, headers=headers, timeout=60)
    seeded.raise_for_status()
    schema = httpx.get(f"{base_url}/api/schema/?format=json", headers=headers, timeout=60)
    schema.raise_for_status()
    schema_path = workdir / "openapi.json"
    schema_path.write_text(json.dumps(schema.json()))
    cmd = [
        str(SCHEMATHESIS), "run", str(schema_path), "--url", base_url, "-H", f"Authorization: Bearer {api_key}",
        "--checks", "all", "--max-examples", str(examples),
        # One worker: Hypothesis' caches are not thread-safe in every version (spurious KeyErrors).
        "--workers", "1", "--no-color",
    ]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir)
    text = out.stdout + out.stderr
    generated = _number(r"(\d+) generated", text)
    failures = _number(r"(\d+) unique failures?\b", text)  # "1 unique failure", "23 unique failures"
    if out.returncode != 0 and failures == 0:
        failures = 1  # failed in a way the summary does not count (a crash, an error before the summary)
    server_errors = len(re.findall(r"^\[5\d\d\]", text, re.MULTILINE))
    return ContractRun(out.returncode, generated, failures, server_errors, text)


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    return int(match.group(1)) if match else 0
