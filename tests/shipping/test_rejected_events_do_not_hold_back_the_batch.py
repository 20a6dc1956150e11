"""Guarantee 3: a 4xx answer for some events of a batch does not hold back the
rest. Rejected events are logged once with the server's reason and dropped;
nothing is retried forever."""
from __future__ import annotations

from tests.shipping.helpers import log_event, synthetic_flow


def test_rejected_events_are_logged_once_and_dropped_while_the_rest_is_stored(server, home, shipping_log, make_sink):
    sink = make_sink()
    good = list(synthetic_flow(200))
    no_time = log_event("no time")
    del no_time["occurred"]
    no_zone = log_event("naive", occurred="2026-11-26T10:00:00")
    batch = good[:300] + [no_time] + good[300:600] + [no_zone] + good[600:]
    for event in batch:
        sink.emit(event)
    assert sink.flush(30)
    # Nothing is retried: a second flush has nothing left to do.
    assert sink.flush(5)
    server.db.assert_holds(good)
    assert sink.stats["rejected"] == 2
    warnings = shipping_log.warnings
    assert len(warnings) == 1, warnings
    assert "rejected 2 of" in warnings[0]
    assert no_time["id"] in warnings[0] and "occurred" in warnings[0]  # the server's reason
    assert no_zone["id"] in warnings[0] and "timezone" in warnings[0]
    sink.close()


def test_a_batch_the_server_refuses_as_too_large_is_split_not_retried(server, home, shipping_log, make_sink):
    # The server takes at most 10,000 events per batch and answers 413 above that.
    sink = make_sink(batch_size=15_000, flush_interval=1.0)
    events = [log_event(f"line {i}") for i in range(15_000)]
    for event in events:
        sink.emit(event)
    assert sink.flush(60)
    server.db.assert_holds(events)
    assert sink.stats["dropped"] == 0
    assert not shipping_log.warnings
    sink.close()
