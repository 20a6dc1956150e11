"""Repeated failed logins from one client, or for one username, lock that client or
username out for a while, with a message on the login form (django-axes)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

PASSWORD = "correct-horse-battery"
LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.fixture
def ada(db) -> User:
    return User.objects.create_user("ada", password=PASSWORD)


def log_in(username: str, password: str, ip: str, path: str = "/login/"):
    return Client(REMOTE_ADDR=ip).post(path, {"username": username, "password": password})


def fail(times: int, username: str = "ada", ip: str = "10.0.0.1", path: str = "/login/") -> list[int]:
    return [log_in(username, "wrong-password", ip, path).status_code for _ in range(times)]


def test_a_wrong_password_below_the_limit_shows_the_usual_error(ada):
    response = log_in("ada", "nope", "10.0.0.1")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_the_failure_that_reaches_the_limit_is_answered_with_the_lockout(ada):
    assert fail(LIMIT) == [200] * (LIMIT - 1) + [429]


def test_a_correct_password_below_the_limit_logs_in(ada):
    assert fail(LIMIT - 1) == [200] * (LIMIT - 1)
    assert log_in("ada", PASSWORD, "10.0.0.1").status_code == 302


def test_failures_from_one_client_lock_that_client_out_with_a_message_on_the_form(ada):
    fail(LIMIT, username="ada", ip="10.0.0.1")
    response = log_in("ada", PASSWORD, "10.0.0.1")
    html = response.content.decode()
    assert response.status_code == 429
    assert "Too many failed logins" in html and "15 minutes" in html
    assert 'name="username"' in html and 'name="password"' in html  # still the login form


def test_failures_for_many_usernames_from_one_client_lock_the_client_out(ada):
    for n in range(LIMIT):
        fail(1, username=f"guess-{n}", ip="10.0.0.2")
    assert log_in("ada", PASSWORD, "10.0.0.2").status_code == 429
    assert log_in("ada", PASSWORD, "10.0.0.3").status_code == 302  # other clients are not affected


def test_failures_for_one_username_from_many_clients_lock_the_username_out(ada):
    for n in range(LIMIT):
        fail(1, username="ada", ip=f"10.0.1.{n}")
    response = log_in("ada", PASSWORD, "10.0.2.1")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    other = User.objects.create_user("grace", password=PASSWORD)
    assert log_in(other.username, PASSWORD, "10.0.2.1").status_code == 302  # other usernames are not affected


def test_the_lockout_ends_after_the_cool_off(ada):
    fail(LIMIT)
    assert log_in("ada", PASSWORD, "10.0.0.1").status_code == 429
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
        attempt.save(update_fields=["attempt_time"])
    assert log_in("ada", PASSWORD, "10.0.0.1").status_code == 302


def test_the_admin_login_is_throttled_too(ada):
    fail(LIMIT, path="/admin/login/")
    response = log_in("ada", PASSWORD, "10.0.0.1", path="/admin/login/")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


def test_the_lockout_message_is_escaped_and_the_username_kept(ada):
    hostile = '"><script>alert(1)</script>'
    fail(LIMIT, username=hostile)
    html = log_in(hostile, "x", "10.0.0.1").content.decode()
    assert "<script>alert(1)</script>" not in html
