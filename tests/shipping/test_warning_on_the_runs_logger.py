"""Guarantee 6, inside a run: a reporting problem is warned once on the run's logger
(so it shows with the run on the console and in the run's logs), and the run goes on."""
from __future__ import annotations

import logging
import time

from sdk import events, flow, task
from sdk.shipping import ShippingSink
from tests.shipping.helpers import LogRecords
from tests.shipping.live_server import free_port


@task
def noop(i: int) -> int:
    return i


def test_a_reporting_problem_inside_a_flow_is_warned_once_on_the_flow_runs_logger(home):
    url = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    sink = ShippingSink(url, "key", home, flush_interval=0.02, max_delay=0.05, max_backoff=0.05,
                        request_timeout=2, register_atexit=False)
    seen = LogRecords()
    logging.getLogger("sdk").addHandler(seen)
    old = events.set_sink(sink)

    @flow
    def keeps_emitting() -> int:
        deadline = time.monotonic() + 20  # bounded: the shipper notices within a few attempts
        n = 0
        while not seen.about("Reporting to the server") and time.monotonic() < deadline:
            noop(n)
            n += 1
        for i in range(200):  # the same problem again and again: no second warning
            noop(i)
        return n

    try:
        state = keeps_emitting(return_state=True)
        assert state.is_completed(), state  # the flow completes despite the unreachable server
        assert state.result() > 0
    finally:
        events.set_sink(old)
        sink.close(0.2)
        logging.getLogger("sdk").removeHandler(seen)

    warnings = seen.about("cannot connect")
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].name == "sdk.flow_runs"
    assert warnings[0].levelno == logging.WARNING
    assert url in warnings[0].getMessage()


def test_outside_any_run_the_warning_goes_to_the_shipping_logger(home):
    url = f"http://127.0.0.1:{free_port()}/api"
    sink = ShippingSink(url, "key", home, flush_interval=0.02, max_delay=0.05, max_backoff=0.05,
                        request_timeout=2, register_atexit=False)
    seen = LogRecords()
    logging.getLogger("sdk").addHandler(seen)
    try:
        deadline = time.monotonic() + 20
        i = 0
        while not seen.about("cannot connect") and time.monotonic() < deadline:
            sink.emit({"id": f"00000000-0000-4000-8000-{i:012d}", "type": "log", "seq": i})
            i += 1
            time.sleep(0.005)  # a producer outside any run; the shipper's attempts are awaited above
    finally:
        sink.close(0.2)
        logging.getLogger("sdk").removeHandler(seen)
    warnings = seen.about("cannot connect")
    assert len(warnings) == 1
    assert warnings[0].name == "sdk.shipping"
