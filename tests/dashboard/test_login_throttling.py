"""Repeated failed logins from one client, or for one username, are slowed (each next
attempt waits longer), then refused for a while, with a message on the login form."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

PASSWORD = "correct-horse-battery"
LIMIT = settings.AXES_FAILURE_LIMIT
SLOW_AFTER = settings.LOGIN_SLOWDOWN_AFTER
FIRST_WAIT = settings.LOGIN_SLOWDOWN_SECONDS


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Each login checks a password; the production hasher's cost would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ada(db) -> User:
    return User.objects.create_user("ada", password=PASSWORD)


def log_in(username: str, password: str, ip: str = "10.0.0.1", path: str = "/login/"):
    return Client(REMOTE_ADDR=ip).post(path, {"username": username, "password": password})


def let_time_pass(seconds: float) -> None:
    """Move every recorded failure back in time, as if `seconds` had passed."""
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(seconds=seconds)
        attempt.save(update_fields=["attempt_time"])


def seconds_to_wait(response) -> int:
    match = re.search(r"wait (\d+) seconds? before trying again", response.content.decode())
    assert match, "no wait in the message"
    return int(match.group(1))


def fail_patiently(times: int, username: str = "ada", ip: str = "10.0.0.1", path: str = "/login/") -> list[int]:
    """Failed logins, each made after the slowdown's wait, so that every one counts."""
    codes = []
    for _ in range(times):
        let_time_pass(60)
        codes.append(log_in(username, "wrong-password", ip, path).status_code)
    return codes


def test_a_wrong_password_below_the_limit_shows_the_usual_error(ada):
    response = log_in("ada", "nope")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_failures_below_the_slowdown_do_not_slow_a_correct_login(ada):
    assert [log_in("ada", "wrong").status_code for _ in range(SLOW_AFTER - 1)] == [200] * (SLOW_AFTER - 1)
    assert log_in("ada", PASSWORD).status_code == 302


def test_after_a_few_failures_the_next_attempt_must_wait(ada):
    assert [log_in("ada", "wrong").status_code for _ in range(SLOW_AFTER)] == [200] * SLOW_AFTER
    response = log_in("ada", PASSWORD)
    html = response.content.decode()
    assert response.status_code == 429
    assert 0 < seconds_to_wait(response) <= FIRST_WAIT  # less when the machine is slow: it counts from the failure
    assert 'name="username"' in html and 'name="password"' in html  # still the login form
    let_time_pass(FIRST_WAIT + 1)
    assert log_in("ada", PASSWORD).status_code == 302


def test_an_attempt_refused_for_coming_too_soon_does_not_count_as_a_failure(ada):
    [log_in("ada", "wrong") for _ in range(SLOW_AFTER)]
    for _ in range(LIMIT):
        assert log_in("ada", "wrong").status_code == 429
    let_time_pass(FIRST_WAIT + 1)
    assert log_in("ada", PASSWORD).status_code == 302


def test_each_further_failure_doubles_the_wait(ada):
    assert fail_patiently(SLOW_AFTER + 1) == [200] * (SLOW_AFTER + 1)
    response = log_in("ada", PASSWORD)
    assert response.status_code == 429
    assert FIRST_WAIT < seconds_to_wait(response) <= 2 * FIRST_WAIT


def test_the_failure_that_reaches_the_limit_locks_out_with_a_message_on_the_form(ada):
    assert fail_patiently(LIMIT) == [200] * (LIMIT - 1) + [429]
    let_time_pass(60)  # past any slowdown, within the cool-off
    response = log_in("ada", PASSWORD)
    html = response.content.decode()
    assert response.status_code == 429
    assert "Logging in is blocked for 15 minutes" in html
    assert 'name="password"' in html


def test_failures_for_many_usernames_from_one_client_lock_the_client_out(ada):
    for n in range(LIMIT):
        fail_patiently(1, username=f"guess-{n}", ip="10.0.0.2")
    let_time_pass(60)
    assert log_in("ada", PASSWORD, ip="10.0.0.2").status_code == 429
    assert log_in("ada", PASSWORD, ip="10.0.0.3").status_code == 302  # other clients are not affected


def test_failures_for_one_username_from_many_clients_lock_the_username_out(ada):
    for n in range(LIMIT):
        fail_patiently(1, username="ada", ip=f"10.0.1.{n}")
    let_time_pass(60)
    response = log_in("ada", PASSWORD, ip="10.0.2.1")
    assert response.status_code == 429
    assert "Logging in is blocked" in response.content.decode()
    User.objects.create_user("grace", password=PASSWORD)
    assert log_in("grace", PASSWORD, ip="10.0.2.1").status_code == 302  # other usernames are not affected


def test_the_lockout_ends_after_the_cool_off(ada):
    fail_patiently(LIMIT)
    let_time_pass(60)
    assert log_in("ada", PASSWORD).status_code == 429
    let_time_pass(settings.AXES_COOLOFF_TIME.total_seconds() + 1)
    assert log_in("ada", PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(ada):
    fail_patiently(LIMIT, path="/admin/login/")
    let_time_pass(60)
    response = log_in("ada", PASSWORD, path="/admin/login/")
    assert response.status_code == 429
    assert "Logging in is blocked" in response.content.decode()


def test_the_refusal_escapes_a_hostile_username(ada):
    hostile = '"><script>alert(1)</script>'
    fail_patiently(SLOW_AFTER, username=hostile)
    response = log_in(hostile, "x")
    assert response.status_code == 429
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_in_process_logins_without_a_request_still_work(ada):
    # Django's test client logs in without a request; there is no client address to throttle.
    client = Client()
    assert client.login(username="ada", password=PASSWORD) is True
    assert client.get("/").status_code == 200
    assert client.login(username="ada", password="wrong") is False
