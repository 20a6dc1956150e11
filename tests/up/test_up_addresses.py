"""The addresses `make up` uses to reach the server it started, whatever HOST and ALLOWED_HOSTS say."""
from __future__ import annotations

import pytest

from orchestrator.launcher import local_address
from orchestrator.management.commands.up import allowed_host, http_url


@pytest.mark.parametrize("host, expected", [("0.0.0.0", "127.0.0.1"), ("::", "::1"), ("127.0.0.1", "127.0.0.1"),
                                            ("192.168.1.20", "192.168.1.20")])
def test_a_wildcard_bind_is_reached_on_loopback(host, expected):
    assert local_address(host) == expected


def test_ipv6_addresses_are_bracketed_in_urls():
    assert http_url("::1", 8000) == "http://[::1]:8000"
    assert http_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"


def test_the_health_check_uses_a_host_the_server_allows(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    assert allowed_host("127.0.0.1") == "127.0.0.1"
    settings.ALLOWED_HOSTS = ["orchestrator.example.com"]
    assert allowed_host("127.0.0.1") == "orchestrator.example.com"
    settings.ALLOWED_HOSTS = [".example.com"]
    assert allowed_host("127.0.0.1") == "example.com"
    settings.ALLOWED_HOSTS = ["*"]
    assert allowed_host("127.0.0.1") == "127.0.0.1"
