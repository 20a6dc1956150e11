"""Login throttling on top of django-axes: after a few failed logins from one client
address or for one username, each next attempt must wait longer (5 s, then 10 s, ...);
at the failure limit that client or username is locked out for the cool-off time.
A refused attempt sees the login form again with a message saying why and for how long.
"""
from __future__ import annotations

import math

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler


def slowdown_delay(failures: int) -> float:
    """Seconds an attempt must wait after the last failure, for this many failures so far."""
    if failures < settings.LOGIN_SLOWDOWN_AFTER:
        return 0.0
    return settings.LOGIN_SLOWDOWN_SECONDS * 2 ** (failures - settings.LOGIN_SLOWDOWN_AFTER)


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a throttled client or username before any password is checked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None  # an in-process login (Django's test client, a shell) has no client to throttle
        return super().authenticate(request, username, password, **kwargs)


class SlowingLoginHandler(AxesDatabaseHandler):
    """Axes' database handler, refusing attempts that come too soon after recent failures."""

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or self.seconds_to_wait(request, credentials) > 0

    def seconds_to_wait(self, request, credentials=None) -> float:
        """0 when an attempt may be made now; else how long until it may (per client, per username)."""
        now = timezone.now()
        waits = [0.0]
        for attempts in self.get_user_attempts(request, credentials):
            summary = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            if summary["failures"]:
                waits.append(slowdown_delay(summary["failures"]) - (now - summary["last"]).total_seconds())
        return max(waits)


def locked_out_message(minutes: int) -> str:
    return (
        "Too many failed logins from this address or for this username. "
        f"Logging in is blocked for {minutes} minute{'s' if minutes != 1 else ''}; try again later."
    )


def slowed_down_message(seconds: int) -> str:
    return (
        "Too many failed logins from this address or for this username: "
        f"wait {seconds} second{'s' if seconds != 1 else ''} before trying again."
    )


def locked_out_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What axes answers to a refused attempt: the login form and the reason, status 429."""
    handler = SlowingLoginHandler()
    if AxesDatabaseHandler.is_locked(handler, request, credentials):
        message = locked_out_message(max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)))
    else:
        message = slowed_down_message(max(1, math.ceil(handler.seconds_to_wait(request, credentials))))
    # An unbound form: binding it would authenticate again, which is what is being refused.
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username[:150]})
    context = {"form": form, "lockout_message": message}
    return render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
