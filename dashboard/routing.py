"""The dashboard's websocket application (mounted by orchestrator/asgi.py)."""
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator
from django.urls import path

from dashboard.consumers import LiveUpdatesConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveUpdatesConsumer.as_asgi()),
]


class BrowserOriginValidator(OriginValidator):
    """AllowedHostsOriginValidator that also lets in a client sending no Origin at all.

    It stops cross-site websocket hijacking: browsers always send Origin, so a page on another
    site is refused; a client without one is no browser a hostile page drives, and still needs
    a signed-in session cookie.
    """

    @classmethod
    def for_allowed_hosts(cls, application):
        checks = AllowedHostsOriginValidator(application)
        return cls(checks.application, checks.allowed_origins)

    def valid_origin(self, parsed_origin) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)


def websocket_application():
    """Same-origin pages only, signed in with the Django session."""
    return BrowserOriginValidator.for_allowed_hosts(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
