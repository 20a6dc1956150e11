"""The running server keeps the OpenAPI contract: Schemathesis `--checks all`, authenticated,
every endpoint, finds no 5xx and no contract failure (a fast pass; `make soak` runs many more)."""
from __future__ import annotations

import os

import pytest

from tests.reliability.contract import run_contract
from tests.shipping.live_server import running_server

# Once, in the PostgreSQL phase: where hostile strings meet the strictest database.
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_schemathesis_finds_no_server_error_and_no_contract_failure(tmp_path):
    examples = int(os.environ.get("CONTRACT_EXAMPLES", "5"))
    with running_server() as server:
        key = server.manage("createapikey", "contract", "--scope", "admin").strip().splitlines()[-1]
        run = run_contract(server.url.removesuffix("/api"), key, tmp_path, examples=examples, seed=1)
    assert run.generated > 0, run.output[-3000:]
    assert run.server_errors == 0, run.output[-6000:]
    assert run.returncode == 0, run.output[-6000:]
