"""Request and response shapes of the HTTP API; business rules live in services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .datetimes import DatetimeRefused, parse_offset_datetime
from .models import ScheduledTask, TaskEvent


class OffsetDateTimeField(serializers.Field):
    """An ISO-8601 datetime that must carry its UTC offset; returned in UTC."""

    default_error_messages = {"invalid": "Not an ISO-8601 datetime: {value!r}."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        try:
            return parse_offset_datetime(data)
        except DatetimeRefused as exc:
            raise serializers.ValidationError(str(exc), code=exc.code) from exc

    def to_representation(self, value):
        return value.isoformat()


class ScheduleRequestSerializer(serializers.Serializer):
    task_name = serializers.CharField(max_length=200)
    datetimes = serializers.ListField(
        child=OffsetDateTimeField(), required=False, default=list, allow_empty=True
    )
    kwargs = serializers.DictField(required=False, default=dict)


class ScheduleResponseSerializer(serializers.Serializer):
    task_ids = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()


class UnscheduleRequestSerializer(serializers.Serializer):
    task_ids = serializers.ListField(
        child=serializers.CharField(
            max_length=100, trim_whitespace=False, allow_blank=True
        ),
        allow_empty=False,
        max_length=10_000,
    )
    enqueue_dependents = serializers.BooleanField(required=False, default=False)


class UnscheduleResponseSerializer(serializers.Serializer):
    task_ids = serializers.ListField(
        child=serializers.CharField(), help_text="Canceled."
    )
    outcomes = serializers.DictField(
        child=serializers.CharField(),
        help_text="For each id that was not canceled: not_found, already_finished, failed, "
        "running, stopped or already_canceled.",
    )
    message = serializers.CharField()


class RescheduleRequestSerializer(serializers.Serializer):
    datetime = OffsetDateTimeField(
        help_text="The new due time, ISO-8601 with a UTC offset."
    )


class ActionRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reason = serializers.CharField(
        help_text="The status that does not allow the action."
    )


class TaskEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskEvent
        fields = ["kind", "at", "actor", "interface", "detail"]


class ScheduledTaskSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ScheduledTask
        fields = [
            "id",
            "task_name",
            "kwargs",
            "queue",
            "status",
            "scheduled_for",
            "created_at",
            "created_by",
            "created_via",
            "enqueued_at",
            "started_at",
            "ended_at",
            "attempts",
            "worker_name",
            "result",
            "error",
            "requeued_from",
        ]
        read_only_fields = fields


class ScheduledTaskDetailSerializer(ScheduledTaskSerializer):
    events = TaskEventSerializer(many=True, read_only=True)
    requeues: serializers.PrimaryKeyRelatedField[Any] = (
        serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    )

    class Meta(ScheduledTaskSerializer.Meta):
        fields = [*ScheduledTaskSerializer.Meta.fields, "requeues", "events"]
        read_only_fields = fields


class ParameterSerializer(serializers.Serializer):
    name = serializers.CharField()
    # A declared field, collected by DRF's metaclass; it never shadows Field.required.
    required = serializers.BooleanField()  # type: ignore[assignment]
    annotation = serializers.CharField(allow_null=True)
    default = serializers.JSONField(allow_null=True)


class RetryPolicySerializer(serializers.Serializer):
    max = serializers.IntegerField()
    intervals = serializers.ListField(child=serializers.IntegerField())


class RegisteredTaskSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    queue = serializers.CharField()
    timeout = serializers.IntegerField(allow_null=True)
    parameters = ParameterSerializer(many=True)
    retry = RetryPolicySerializer(allow_null=True)
