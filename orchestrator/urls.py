from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from orchestrator.metrics import metrics_view
from orchestrator.probes import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin's): the logo, not a 404.
    path("favicon.ico", RedirectView.as_view(url=static("img/logo.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("dashboard.urls")),
]

handler500 = "orchestrator.unavailable.server_error"
