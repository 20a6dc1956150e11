from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard.views.flow_run import flow_run_page
from dashboard.views.retry import flow_run_retry, task_run_retry, task_runs_retry
from dashboard.views.runs import runs_list
from dashboard.views.task_run import task_run_page
from dashboard.views.task_runs import matching_count, task_runs_list
from dashboard.views.workers import workers_page

app_name = "dashboard"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", runs_list, name="runs"),
    path("flow-runs/<str:flow_run_id>/", flow_run_page, name="flow-run"),
    path("flow-runs/<str:flow_run_id>/retry/", flow_run_retry, name="flow-run-retry"),
    path("task-runs/", task_runs_list, name="task-runs"),
    path("task-runs/retry/", task_runs_retry, name="task-runs-retry"),
    path("task-runs/count/", matching_count, name="task-runs-count"),
    path("task-runs/<str:task_run_id>/", task_run_page, name="task-run"),
    path("task-runs/<str:task_run_id>/retry/", task_run_retry, name="task-run-retry"),
    path("workers/", workers_page, name="workers"),
]
