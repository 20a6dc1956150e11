"""When the server is known unreachable (every delivery refused), a process exits promptly
instead of waiting out its exit bound, and every event it emitted is in the spool."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

from collections import Counter

from sdk.shipping.spool import spool_dir
from tests.shipping.helpers import spooled_events
from tests.shipping.live_server import ROOT, free_port

TEN_TASK_FLOW = textwrap.dedent("""
    import time
    from sdk import flow, task

    @task
    def inc(x):
        return x + 1

    @flow
    def ten():
        return [inc(i) for i in range(10)]

    ten()
    print(time.monotonic(), flush=True)  # the flow is over; no explicit flush
""")
# created (with Pending), Running, Completed for the flow run and each task run, and the flow
# run's "Finished in state Completed()" log line.
EVENTS_OF_TEN_TASK_FLOW = {"flow_run.created": 1, "flow_run.state": 2, "task_run.created": 10,
                           "task_run.state": 20, "log": 1}


def test_a_process_exits_promptly_when_nothing_listens_and_spools_everything(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    env = {**os.environ, "ORCHESTRATOR_API_URL": url, "ORCHESTRATOR_HOME": str(tmp_path),
           "ORCHESTRATOR_SHIP_EXIT_TIMEOUT": "60", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", TEN_TASK_FLOW], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    exited = time.monotonic()
    assert proc.returncode == 0, err
    exit_took = exited - float(out.split()[-1])
    # Waiting out the bound would take 60 s; a prompt exit takes a fraction of a second (docs/shipping.md
    # quotes the measurement); the margin is for a loaded machine.
    assert exit_took < 10, f"the process took {exit_took:.2f}s to exit after its flow"
    assert "python -m sdk replay" in err  # it says where the events are and how to send them
    spooled = Counter(event["type"] for event in spooled_events(spool_dir(tmp_path, url)))
    assert spooled == EVENTS_OF_TEN_TASK_FLOW
