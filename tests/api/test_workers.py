"""GET /api/workers/."""
from __future__ import annotations

from datetime import timedelta

from tests.api.factories import make_worker, results


def names(response) -> list[str]:
    return [item["name"] for item in results(response)]


def test_lists_workers_seen_in_the_last_minute(api):
    make_worker("live:1", seen_ago=timedelta(seconds=10))
    make_worker("gone:2", seen_ago=timedelta(minutes=5))
    assert names(api.get("/api/workers/")) == ["live:1"]


def test_all_lists_every_worker_most_recent_first(api):
    make_worker("gone:2", seen_ago=timedelta(minutes=5))
    make_worker("live:1", seen_ago=timedelta(seconds=10))
    assert names(api.get("/api/workers/?all=1")) == ["live:1", "gone:2"]


def test_worker_shows_what_it_serves(api):
    make_worker("host:1", hostname="host", pid=1, task_keys=["add-5f3a"], flow_names=["etl"])
    item = results(api.get("/api/workers/"))[0]
    assert (item["hostname"], item["pid"], item["task_keys"], item["flow_names"]) == ("host", 1, ["add-5f3a"], ["etl"])
    assert item["last_seen"] and item["first_seen"]


def test_bad_all_value_is_400(api):
    response = api.get("/api/workers/?all=maybe")
    assert response.status_code == 400
    assert "all" in response.json()["error"]
