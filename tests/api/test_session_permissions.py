"""Through a logged-in session: every user may read; ingesting and admin-scope actions
need a staff account or an explicit permission."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from api.auth import HasScope

EMPTY_BATCH = {"events": []}


def session_client(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def user_with(*codenames: str, staff: bool = False) -> User:
    user = User.objects.create_user(f"user-{User.objects.count()}", password="p" * 12, is_staff=staff)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="api", codename__in=codenames))
    return User.objects.get(pk=user.pk)  # fresh: permissions are cached per instance


@pytest.mark.django_db
def test_non_staff_user_may_read(db):
    assert session_client(user_with()).get("/api/flow-runs/").status_code == 200


@pytest.mark.django_db
def test_non_staff_user_may_not_ingest_through_the_session():
    response = session_client(user_with()).post("/api/events/", EMPTY_BATCH, format="json")
    assert response.status_code == 403
    assert "staff" in response.json()["error"]


@pytest.mark.django_db
def test_staff_user_may_ingest_through_the_session():
    response = session_client(user_with(staff=True)).post("/api/events/", EMPTY_BATCH, format="json")
    assert response.status_code == 200
    assert response.json() == {"accepted": 0, "duplicates": 0, "rejected": []}


@pytest.mark.django_db
def test_ingest_permission_lets_a_non_staff_user_ingest():
    client = session_client(user_with("ingest_through_session"))
    assert client.post("/api/events/", EMPTY_BATCH, format="json").status_code == 200


@pytest.mark.django_db
def test_superuser_may_ingest_through_the_session():
    admin = User.objects.create_superuser("root", password="p" * 12)
    assert session_client(admin).post("/api/events/", EMPTY_BATCH, format="json").status_code == 200


class AdminScopeAction(APIView):
    """Stands for any view that declares an admin-scope action (retry, cancel, ...)."""

    permission_classes = [HasScope]
    required_scope = "admin"

    def post(self, request):
        return Response({"done": True})


class RetryLikeAction(AdminScopeAction):
    """A view that names the permission a session needs for it."""

    session_permission = "orchestrator.retry_run"


def call_admin_action(user: User, view=AdminScopeAction) -> int:
    request = APIRequestFactory().post("/api/anything/", {}, format="json")
    force_authenticate(request, user=user)
    return view.as_view()(request).status_code


@pytest.mark.django_db
def test_non_staff_user_may_not_take_admin_scope_actions():
    assert call_admin_action(user_with()) == 403


@pytest.mark.django_db
def test_ingest_permission_does_not_allow_admin_scope_actions():
    assert call_admin_action(user_with("ingest_through_session")) == 403


@pytest.mark.django_db
def test_staff_user_may_take_admin_scope_actions():
    assert call_admin_action(user_with(staff=True)) == 200


@pytest.mark.django_db
def test_admin_permission_lets_a_non_staff_user_take_admin_scope_actions():
    assert call_admin_action(user_with("admin_through_session")) == 200


@pytest.mark.django_db
def test_a_view_can_name_the_permission_a_session_needs():
    user = User.objects.create_user("retrier", password="p" * 12)
    assert call_admin_action(user, RetryLikeAction) == 403
    user.user_permissions.add(Permission.objects.get(content_type__app_label="orchestrator", codename="retry_run"))
    assert call_admin_action(User.objects.get(pk=user.pk), RetryLikeAction) == 200
