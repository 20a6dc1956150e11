from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from api.views.claims import ClaimsView, ReleaseView
from api.views.docs import SchemaView, SwaggerView, UnknownPath
from api.views.events import EventBatchView
from api.views.logs import LogDetail, LogList
from api.views.runs import FlowRunViewSet, TaskRunViewSet
from api.views.wait import wait_for_task_run, wait_for_task_runs
from api.views.workers import WorkerList

app_name = "api"

router = SimpleRouter()
router.register("flow-runs", FlowRunViewSet, basename="flow-run")
router.register("task-runs", TaskRunViewSet, basename="task-run")

urlpatterns = [
    path("events/", EventBatchView.as_view(), name="events"),
    path("claims/", ClaimsView.as_view(), name="claims"),
    path("claims/release/", ReleaseView.as_view(), name="claims-release"),
    path("task-runs/wait/", wait_for_task_runs, name="task-runs-wait"),
    path("task-runs/<str:pk>/wait/", wait_for_task_run, name="task-run-wait"),
    *router.urls,
    path("logs/", LogList.as_view(), name="logs"),
    path("logs/<str:pk>/", LogDetail.as_view(), name="log"),
    path("workers/", WorkerList.as_view(), name="workers"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*/$", UnknownPath.as_view(), name="unknown"),
]
