"""Read-only admin for what the SDK reported; runs change only through ingested events."""
from __future__ import annotations

from django.contrib import admin

from orchestrator.models import CreatedEventConflict, FlowRun, Log, TaskRun


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # no second COUNT(*) over millions of rows

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FlowRun)
class FlowRunAdmin(ReadOnlyAdmin):
    list_display = ["name", "flow", "state_type", "state_name", "start_time", "end_time", "created", "stored_by"]
    list_filter = ["state_type", "state_name"]
    list_select_related = ["flow"]
    search_fields = ["name", "=id"]
    ordering = ["-created", "-id"]


@admin.register(TaskRun)
class TaskRunAdmin(ReadOnlyAdmin):
    list_display = ["name", "task_name", "flow_run_id", "state_type", "state_name", "start_time", "end_time", "created",
                    "stored_by"]
    list_filter = ["state_type", "state_name"]
    search_fields = ["name", "task_name", "=id"]
    ordering = ["-created", "-id"]


@admin.register(Log)
class LogAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "level", "logger", "message", "flow_run_id", "task_run_id", "stored_by"]
    list_filter = ["level"]
    search_fields = ["message"]
    ordering = ["-timestamp"]


@admin.register(CreatedEventConflict)
class CreatedEventConflictAdmin(ReadOnlyAdmin):
    """Created events a run did not take because it held another one that says something else."""

    list_display = ["run_type", "run_id", "id", "occurred", "stored_by", "received"]
    list_filter = ["run_type", "stored_by"]
    search_fields = ["=run_id", "=id"]
    ordering = ["-received"]
