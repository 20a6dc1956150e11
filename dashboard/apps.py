from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from dashboard.consumers import close_session_sockets

        user_logged_out.connect(close_session_sockets, dispatch_uid="dashboard.close_session_sockets")
