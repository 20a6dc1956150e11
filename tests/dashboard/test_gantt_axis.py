"""dashboard.gantt.running_axis_end: a running Gantt's axis holds still between round spans."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dashboard.gantt import running_axis_end

START = datetime(2026, 12, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("elapsed, span", [
    (0, 1), (0.79, 1), (0.8, 2), (3.9, 5), (4, 10), (10, 15), (11.9, 15), (12, 20), (100, 300),
    (3000, 7200), (2.5 * 86400, 4 * 86400), (29 * 86400, 60 * 86400),
])
def test_the_axis_is_the_first_round_span_now_is_within_80_percent_of(elapsed, span):
    end, renew = running_axis_end(START, START + timedelta(seconds=elapsed))
    assert end - START == timedelta(seconds=span)
    assert renew - START == timedelta(seconds=span * 0.8)


def test_the_axis_holds_still_until_its_renewal_then_moves_on():
    ends = {running_axis_end(START, START + timedelta(seconds=s / 10))[0] for s in range(40, 80)}
    assert ends == {START + timedelta(seconds=10)}  # 4 s to 7.9 s: one axis, no bar moves
    assert running_axis_end(START, START + timedelta(seconds=8))[0] == START + timedelta(seconds=15)


def test_runs_over_a_year_get_whole_years():
    year = 365 * 86400
    end, renew = running_axis_end(START, START + timedelta(seconds=year))
    assert end - START == timedelta(seconds=2 * year) and renew > START + timedelta(seconds=year)
