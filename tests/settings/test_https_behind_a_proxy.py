"""With HTTPS=true (behind a TLS-terminating proxy): plain HTTP is redirected, requests the
proxy marks https get HSTS, and the session and CSRF cookies are secure."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from orchestrator.security_settings import https_settings

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def https(settings) -> None:
    for name, value in https_settings(True).items():
        setattr(settings, name, value)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def via_proxy() -> Client:
    return Client(HTTP_X_FORWARDED_PROTO="https")


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https():
    response = Client().get("/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"


@pytest.mark.django_db
def test_requests_the_proxy_marks_https_are_served_with_hsts():
    response = via_proxy().get("/login/")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure():
    User.objects.create_user("ada", password=PASSWORD)
    client = via_proxy()
    page = client.get("/login/")
    assert page.cookies["csrftoken"]["secure"] is True
    response = client.post("/login/", {"username": "ada", "password": PASSWORD,
                                       "csrfmiddlewaretoken": page.cookies["csrftoken"].value})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["sessionid"]["httponly"] is True
