import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")
django_asgi_app = get_asgi_application()

# After Django is set up:
from channels.routing import ProtocolTypeRouter  # noqa: E402

from dashboard.routing import websocket_application  # noqa: E402
from orchestrator.body_limit import BodyLimits, RequestBodyLimit, guard_daphne_requests  # noqa: E402

body_limits = BodyLimits.from_settings()
guard_daphne_requests(body_limits.for_path)

application = ProtocolTypeRouter({
    "http": RequestBodyLimit(django_asgi_app, body_limits),
    "websocket": websocket_application(),  # /ws/live/: the dashboard's live updates
})
