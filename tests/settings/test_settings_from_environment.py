"""DEBUG, ALLOWED_HOSTS and the HTTPS switch, read from the environment when the server starts."""
from __future__ import annotations

from tests.settings.conftest import read_settings


def test_debug_is_off_by_default(home):
    assert read_settings(home, ["DEBUG"])["DEBUG"] is False


def test_debug_true_turns_it_on(home):
    assert read_settings(home, ["DEBUG"], DEBUG="true")["DEBUG"] is True


def test_debug_false_keeps_it_off(home):
    assert read_settings(home, ["DEBUG"], DEBUG="false")["DEBUG"] is False


def test_allowed_hosts_default_to_loopback_names(home):
    hosts = read_settings(home, ["ALLOWED_HOSTS"])["ALLOWED_HOSTS"]
    assert {"127.0.0.1", "localhost"} <= set(hosts)
    assert "*" not in hosts


def test_allowed_hosts_is_a_comma_list_with_spaces_ignored(home):
    hosts = read_settings(home, ["ALLOWED_HOSTS"], ALLOWED_HOSTS=" orch.example.com, .example.org ,")["ALLOWED_HOSTS"]
    assert hosts == ["orch.example.com", ".example.org"]


HTTPS_NAMES = ["SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
               "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"]


def test_https_true_turns_on_proxy_header_secure_cookies_hsts_and_redirect(home):
    values = read_settings(home, HTTPS_NAMES, HTTPS="true")
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and values["SECURE_HSTS_PRELOAD"] is True


def test_without_https_none_of_it_is_on(home):
    values = read_settings(home, HTTPS_NAMES)
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_hsts_can_be_tuned(home):
    values = read_settings(home, HTTPS_NAMES, HTTPS="true", HSTS_SECONDS="3600", HSTS_PRELOAD="false")
    assert values["SECURE_HSTS_SECONDS"] == 3600 and values["SECURE_HSTS_PRELOAD"] is False
