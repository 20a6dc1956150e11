import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application() does, with our handler below

from orchestrator.request_threads import ReusedThreadsASGIHandler  # noqa: E402

django_asgi_app = ReusedThreadsASGIHandler()

# After Django is set up:
from channels.routing import ProtocolTypeRouter  # noqa: E402

from api.fast_path import FastPath  # noqa: E402
from dashboard.routing import websocket_application  # noqa: E402
from orchestrator.body_limit import BodyLimits, RequestBodyLimit, guard_daphne_requests  # noqa: E402

body_limits = BodyLimits.from_settings()
guard_daphne_requests(body_limits.for_path)

application = ProtocolTypeRouter({
    # The SDK's and workers' hot endpoints skip the middleware chain when well-formed (api/fast_path.py).
    "http": RequestBodyLimit(FastPath(django_asgi_app), body_limits),
    "websocket": websocket_application(),  # /ws/live/: the dashboard's live updates
})
