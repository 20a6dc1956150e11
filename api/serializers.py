"""Resource shapes of the read API (SPEC §4.2)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.list_limits import cut_for_list
from orchestrator.models import FlowRun, FlowRunState, Log, StateType, TaskRun, Worker, empty_state_counts


class CutInLists:
    """Serializers whose large fields are cut when they render an item of a list (api/list_limits.py)."""

    list_text_fields: tuple[str, ...] = ()
    list_json_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if isinstance(self.parent, serializers.ListSerializer):
            cut_for_list(data, self.list_text_fields, self.list_json_fields)
        return data


class CurrentStateSerializer(serializers.Serializer):
    """A run's current state, from its state_* columns; null until a state event arrived."""

    type = serializers.ChoiceField(source="state_type", choices=StateType.choices)
    name = serializers.CharField(source="state_name")
    message = serializers.CharField(source="state_message")
    timestamp = serializers.DateTimeField(source="state_timestamp")

    def to_representation(self, instance):
        if not instance.state_type:
            return None
        return super().to_representation(instance)


class RunSerializer(CutInLists, serializers.ModelSerializer):
    list_text_fields = ("state.message",)
    list_json_fields = ("parameters", "tags")
    state = CurrentStateSerializer(source="*", read_only=True, allow_null=True)
    duration = serializers.SerializerMethodField(help_text="seconds from start_time to end_time")
    # Annotated by the views' querysets; null until the flow run's created event arrived.
    flow_name = serializers.CharField(read_only=True, allow_null=True)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_duration(self, run) -> float | None:
        return run.duration.total_seconds() if run.duration is not None else None

    common_fields = [
        "id", "name", "flow_name", "state", "parameters", "tags", "run_count",
        "start_time", "end_time", "duration", "created", "parent_task_run_id",
    ]


class FlowRunSerializer(RunSerializer):
    task_run_counts = serializers.SerializerMethodField(help_text="number of its task runs by state type")

    class Meta:
        model = FlowRun
        fields = RunSerializer.common_fields + ["parent_flow_run_id", "version", "task_run_counts"]

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_task_run_counts(self, run: FlowRun) -> dict[str, int]:
        return self.context["task_run_counts"].get(run.id, empty_state_counts())


class TaskRunSerializer(RunSerializer):
    flow_run_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = TaskRun
        fields = RunSerializer.common_fields + [
            "task_key", "task_name", "flow_run_id", "upstream_task_run_ids",
        ]


class StateRecordSerializer(CutInLists, serializers.ModelSerializer):
    """One entry of a state timeline (FlowRunState and TaskRunState have the same fields)."""

    list_text_fields = ("message",)
    list_json_fields = ("error",)

    class Meta:
        model = FlowRunState
        fields = ["id", "type", "name", "message", "timestamp", "seq", "run_count", "error"]


class LogSerializer(CutInLists, serializers.ModelSerializer):
    list_text_fields = ("message",)

    flow_run_id = serializers.UUIDField(read_only=True, allow_null=True)
    task_run_id = serializers.UUIDField(read_only=True, allow_null=True)
    level_name = serializers.CharField(read_only=True)

    class Meta:
        model = Log
        fields = ["id", "flow_run_id", "task_run_id", "level", "level_name", "logger", "message", "timestamp", "seq"]


class WorkerSerializer(CutInLists, serializers.ModelSerializer):
    list_json_fields = ("task_keys", "flow_names")

    class Meta:
        model = Worker
        fields = ["name", "hostname", "pid", "task_keys", "flow_names", "first_seen", "last_seen"]
