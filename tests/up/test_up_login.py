"""The demo login: admin/admin only on a loopback address; elsewhere a random password shown once;
an existing user's password is never reset."""
from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model

from orchestrator.local_setup import Login, ensure_login, is_loopback
from orchestrator.management.commands.up import Command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "orchestrator.example.com", ""])
def test_other_addresses_are_not_loopback(host):
    assert not is_loopback(host)


def test_loopback_gets_admin_admin():
    login = ensure_login("127.0.0.1")
    assert (login.username, login.password, login.generated) == ("admin", "admin", False)
    assert get_user_model().objects.get(username="admin").check_password("admin")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20"])
def test_any_other_host_gets_a_random_password(host):
    login = ensure_login(host)
    assert login.generated and login.password not in (None, "admin") and len(login.password) >= 16
    user = get_user_model().objects.get(username="admin")
    assert user.check_password(login.password) and not user.check_password("admin")
    assert ensure_login(host) == Login("admin", None)  # a second start never shows it again


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_an_existing_password_is_never_reset(host):
    get_user_model().objects.create_superuser("admin", "a@example.com", "my own secret")
    assert ensure_login(host) == Login("admin", None)  # a second start never shows it again
    assert get_user_model().objects.get(username="admin").check_password("my own secret")


def summary(login: Login, host: str = "0.0.0.0") -> str:
    command = Command(stdout=io.StringIO())
    command.logs = "/home/me/.orchestrator/logs"
    command.print_summary(f"http://{host}:8000", "http://127.0.0.1:8000/api", login, "orc_key", "", no_worker=False,
                          exposed=not is_loopback(host))
    return command.stdout._out.getvalue()


def test_the_random_password_is_printed_with_how_to_change_it():
    text = summary(Login("admin", "Zq3-random-pass", generated=True))
    assert "login: admin / Zq3-random-pass" in text
    assert "shown only now" in text and "manage.py changepassword admin" in text
    assert "set ALLOWED_HOSTS" in text  # what else someone exposing the server needs to know


def test_an_existing_login_is_not_printed_as_admin_admin():
    text = summary(Login("admin", None), host="127.0.0.1")
    assert "login: admin / (your existing password)" in text and "admin / admin" not in text
    assert "ALLOWED_HOSTS" not in text
