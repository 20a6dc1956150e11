"""`/workers/`: task workers, what they serve, last seen, online or offline."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.factories import make_worker
from tests.dashboard.conftest import assert_escaped

pytestmark = pytest.mark.django_db


def test_logged_out_visitor_goes_to_login(client):
    assert client.get("/workers/")["Location"] == "/login/?next=/workers/"


def test_workers_online_and_offline_with_what_they_serve(admin_client):
    make_worker("host-a:1", seen_ago=timedelta(seconds=5), task_keys=["transform-5f3a"], flow_names=["etl"])
    make_worker("host-b:2", seen_ago=timedelta(minutes=10), task_keys=["load-9c1e"])
    html = admin_client.get("/workers/").content.decode()
    online = html[html.index('id="worker-host-a1"'):]
    offline = html[html.index('id="worker-host-b2"'):]
    assert ">online<" in online[:300] and "transform-5f3a" in online and "etl" in online
    assert ">offline<" in offline[:300] and "load-9c1e" in offline
    assert html.index('id="worker-host-a1"') < html.index('id="worker-host-b2"')


def test_no_workers_yet(admin_client):
    assert "No task worker has been seen yet" in admin_client.get("/workers/").content.decode()


def test_hostile_worker_fields_render_as_text(admin_client):
    make_worker("<script>alert(1)</script>", task_keys=['"><img src=x onerror=alert(1)>'])
    assert_escaped(admin_client.get("/workers/").content.decode(), "")
