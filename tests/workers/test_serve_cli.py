"""`python -m sdk serve`: what it refuses, before any broker or server is involved."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import sdk
from tests.shipping.live_server import ROOT
from tests.workers.served import add


def serve(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_API")}
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "sdk", "serve", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_an_object_that_is_neither_a_task_nor_a_flow_is_refused():
    out = serve("tests.workers.served:Point", ORCHESTRATOR_API_URL="http://127.0.0.1:9/api")
    assert out.returncode == 2 and "serve() takes @task and @flow objects" in out.stderr


def test_a_spec_without_a_colon_is_refused():
    out = serve("tests.workers.served")
    assert out.returncode == 2 and "is not module:name" in out.stderr


def test_a_missing_attribute_is_named():
    out = serve("tests.workers.served:nope")
    assert out.returncode == 2 and "has no attribute 'nope'" in out.stderr


def test_without_a_server_it_says_what_to_set():
    out = serve("tests.workers.served:add")
    assert out.returncode == 2 and "ORCHESTRATOR_API_URL" in out.stderr


def test_no_arguments_prints_usage():
    out = serve()
    assert out.returncode == 2 and "usage: python -m sdk serve" in out.stderr


def test_serve_checks_its_options(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_API_URL", "http://127.0.0.1:9/api")
    with pytest.raises(ValueError, match="concurrency"):
        sdk.serve(add, concurrency=0)
