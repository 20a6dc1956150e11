import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")
django_asgi_app = get_asgi_application()

# After Django is set up:
from channels.routing import ProtocolTypeRouter  # noqa: E402

from dashboard.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": websocket_application(),  # /ws/live/: the dashboard's live updates
})
