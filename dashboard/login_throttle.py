"""What a locked-out login sees (django-axes calls `locked_out_response`): the login form
again, with a message that says why and for how long, and status 429."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_message() -> str:
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return (
        "Too many failed logins from this address or for this username. "
        f"Logging in is blocked for {minutes} minute{'s' if minutes != 1 else ''} after the last attempt; "
        "try again later."
    )


def locked_out_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    # An unbound form: binding it would authenticate again, which is what is being refused.
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username[:150]})
    context = {"form": form, "lockout_message": lockout_message()}
    return render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
