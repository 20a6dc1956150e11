from django.contrib import admin
from django.urls import include, path

from orchestrator.metrics import metrics_view
from orchestrator.probes import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("dashboard.urls")),
]

handler500 = "orchestrator.unavailable.server_error"
