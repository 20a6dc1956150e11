"""CSRF: every dashboard URL refuses a POST without the token (403) and changes nothing;
logging in and out work with the token the page gives."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern

from dashboard.urls import urlpatterns
from orchestrator import retries
from tests.api.factories import make_flow_run, make_task_run

pytestmark = pytest.mark.django_db
PASSWORD = "csrf-test-password-1"


@pytest.fixture
def user(db):
    return get_user_model().objects.create_superuser("csrf", "c@example.com", PASSWORD)


@pytest.fixture
def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def every_dashboard_url(flow_run_id: str, task_run_id: str) -> list[str]:
    """Each dashboard route with its run ids filled in: the forms and the pages alike."""
    urls = []
    for pattern in urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = pattern.pattern._route
        route = route.replace("<str:flow_run_id>", flow_run_id).replace("<str:task_run_id>", task_run_id)
        assert "<" not in route, route
        urls.append("/" + route)
    return urls


def test_every_dashboard_url_refuses_a_post_without_the_token(signed_in, monkeypatch):
    called = []
    monkeypatch.setattr(retries, "retry_task_run", lambda *a, **k: called.append(a))
    monkeypatch.setattr(retries, "retry_flow_run", lambda *a, **k: called.append(a))
    monkeypatch.setattr(retries, "retry_task_runs", lambda *a, **k: called.append(a))
    task_run = make_task_run(make_flow_run(), state=("FAILED", "Failed"))
    urls = every_dashboard_url(str(task_run.flow_run_id), str(task_run.id))
    assert {"/login/", "/logout/", "/task-runs/retry/", f"/task-runs/{task_run.id}/retry/",
            f"/flow-runs/{task_run.flow_run_id}/retry/"} <= set(urls)
    refused = {url: signed_in.post(url, {"ids": [str(task_run.id)]}).status_code for url in urls}
    assert refused == {url: 403 for url in urls}
    assert called == []
    assert signed_in.get("/").status_code == 200  # the refused logout left the session signed in


def test_login_without_the_token_is_refused_and_signs_nobody_in(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "csrf", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_login_and_logout_with_the_token_from_the_page_work(user):
    client = Client(enforce_csrf_checks=True)
    form = client.get("/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
    response = client.post("/login/", {"username": "csrf", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    page = client.get("/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    assert client.post("/logout/", {"csrfmiddlewaretoken": token}).status_code in (200, 302)
    assert "_auth_user_id" not in client.session
