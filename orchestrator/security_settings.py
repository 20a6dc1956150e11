"""Security settings: HTTPS behind a proxy, the Content Security Policy, login throttling.

Imported by `orchestrator/settings.py`; every value can be read without Django configured.
"""
from __future__ import annotations

import os
from datetime import timedelta

from csp.constants import NONE, SELF

from orchestrator.config import env_bool


def https_settings(https: bool) -> dict:
    """Settings for a server reached over HTTPS through a TLS-terminating reverse proxy.

    The proxy must set `X-Forwarded-Proto: https` (and overwrite any such header a client sent).
    """
    if not https:
        return {}
    return {
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600))),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": env_bool("HSTS_INCLUDE_SUBDOMAINS", True),
        "SECURE_HSTS_PRELOAD": env_bool("HSTS_PRELOAD", True),
    }


# Scripts and styles only from our own origin: the vendored htmx and our files under static/.
# No inline script or style, no eval; pages cannot be framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Swagger UI and the admin draw small icons as data: URIs
        "font-src": [SELF],
        "connect-src": [SELF],  # htmx requests and the live-update websocket (same origin)
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Login throttling (django-axes, dashboard/login_throttle.py): after LOGIN_SLOWDOWN_AFTER failed
# logins from one client address or for one username, each next attempt waits longer
# (LOGIN_SLOWDOWN_SECONDS, doubling); at LOGIN_FAILURE_LIMIT that client or username is
# locked out for LOGIN_COOLOFF_MINUTES.
LOGIN_SLOWDOWN_AFTER = int(os.environ.get("LOGIN_SLOWDOWN_AFTER", "3"))
LOGIN_SLOWDOWN_SECONDS = float(os.environ.get("LOGIN_SLOWDOWN_SECONDS", "5"))
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # each on its own, not the pair
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a refused attempt neither counts nor extends the wait
AXES_HTTP_RESPONSE_CODE = 429
AXES_HANDLER = "dashboard.login_throttle.SlowingLoginHandler"
AXES_LOCKOUT_CALLABLE = "dashboard.login_throttle.locked_out_response"
