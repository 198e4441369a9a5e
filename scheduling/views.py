"""HTTP API: thin viewsets over the scheduling services."""

from __future__ import annotations

import logging

import redis
from django.db import DatabaseError, connection
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import registry, services
from .actors import Actor
from .filters import ScheduledTaskFilter
from .models import Interface, ScheduledTask
from .redis_keys import get_connection
from .serializers import (
    ActionRefusedSerializer,
    RegisteredTaskSerializer,
    RescheduleRequestSerializer,
    ScheduledTaskDetailSerializer,
    ScheduledTaskSerializer,
    ScheduleRequestSerializer,
    ScheduleResponseSerializer,
    UnscheduleRequestSerializer,
    UnscheduleResponseSerializer,
)

logger = logging.getLogger(__name__)

ACTION_RESPONSES = {
    200: ScheduledTaskDetailSerializer,
    404: ActionRefusedSerializer,
    409: ActionRefusedSerializer,
}


class SchedulingViewSet(viewsets.ViewSet):
    """Schedule runs of registered tasks and cancel them."""

    @extend_schema(
        request=ScheduleRequestSerializer,
        responses={200: ScheduleResponseSerializer},
        examples=[
            OpenApiExample(
                "Run do_something now",
                value={
                    "task_name": "do_something",
                    "datetimes": [],
                    "kwargs": {"how_long": 5},
                },
                request_only=True,
            )
        ],
        summary="Run a registered task now, or once at each given datetime",
    )
    def schedule(self, request: Request) -> Response:
        body = ScheduleRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        runs = services.schedule_task(
            task_name=body.validated_data["task_name"],
            kwargs=body.validated_data["kwargs"],
            run_times=body.validated_data["datetimes"],
            actor=Actor.for_user(request.user, Interface.API),
        )
        return Response(
            {
                "task_ids": [str(run.id) for run in runs],
                "message": "Tasks scheduled successfully",
            }
        )

    @extend_schema(
        request=UnscheduleRequestSerializer,
        responses={200: UnscheduleResponseSerializer},
        summary="Cancel scheduled or queued tasks",
    )
    def unschedule(self, request: Request) -> Response:
        body = UnscheduleRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        report = services.cancel_tasks(
            task_ids=body.validated_data["task_ids"],
            actor=Actor.for_user(request.user, Interface.API),
            enqueue_dependents=body.validated_data["enqueue_dependents"],
        )
        if report.skipped:
            message = (
                f"{len(report.canceled)} of {len(report.outcomes)} tasks unscheduled"
            )
        else:
            message = "Tasks unscheduled successfully"
        return Response(
            {
                "task_ids": report.canceled,
                "outcomes": report.skipped,
                "message": message,
            }
        )


class ScheduledTaskViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit record of every run: what, when, for whom, with what outcome."""

    queryset = ScheduledTask.objects.select_related("created_by")
    filterset_class = ScheduledTaskFilter
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if self.action == "list":
            return self.queryset
        return self.queryset.prefetch_related("events", "requeues")

    def get_serializer_class(self):
        if self.action == "list":
            return ScheduledTaskSerializer
        return ScheduledTaskDetailSerializer

    @extend_schema(
        request=None, responses=ACTION_RESPONSES, summary="Cancel a pending task"
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._act("cancel", pk)

    @extend_schema(
        request=None, responses=ACTION_RESPONSES, summary="Run a scheduled task now"
    )
    @action(detail=True, methods=["post"], url_path="run-now")
    def run_now(self, request: Request, pk: str) -> Response:
        return self._act("run_now", pk)

    @extend_schema(
        request=RescheduleRequestSerializer,
        responses=ACTION_RESPONSES,
        summary="Give a scheduled or queued task a new due time",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str) -> Response:
        body = RescheduleRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._act("reschedule", pk, run_at=body.validated_data["datetime"])

    @extend_schema(
        request=None,
        responses={201: ScheduledTaskDetailSerializer, **ACTION_RESPONSES},
        summary="Run an ended task again, as a new run linked to this one",
    )
    @action(detail=True, methods=["post"])
    def requeue(self, request: Request, pk: str) -> Response:
        return self._act("requeue", pk)

    @extend_schema(
        request=None, responses=ACTION_RESPONSES, summary="Stop a running task"
    )
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str) -> Response:
        return self._act("stop", pk)

    def _act(self, action_name: str, pk: str, **options) -> Response:
        report = services.act_on_task(
            action_name,
            pk,
            actor=Actor.for_user(self.request.user, Interface.API),
            **options,
        )
        # A requeue answers with the new run; the other actions with the run they changed.
        new_id = report.done[pk]
        task = self.get_queryset().get(pk=new_id or pk)
        code = status.HTTP_201_CREATED if new_id else status.HTTP_200_OK
        return Response(ScheduledTaskDetailSerializer(task).data, status=code)


class RegisteredTaskViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The tasks that may be scheduled, with their parameters, queue and retry policy."""

    serializer_class = RegisteredTaskSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return [
            {
                "name": name,
                "description": (task.func.__doc__ or "").strip(),
                "queue": task.queue,
                "timeout": task.timeout,
                "parameters": registry.describe_parameters(task),
                "retry": task.retry_policy(),
            }
            for name, task in registry.registered_tasks().items()
        ]


class HealthView(APIView):
    """Whether this web process reaches its database and Redis; for load balancers."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(summary="Health of the database and Redis connections")
    def get(self, request: Request) -> Response:
        checks = {"database": "ok", "redis": "ok"}
        try:
            connection.ensure_connection()
        except DatabaseError:
            logger.exception("Health check: database unreachable")
            checks["database"] = "unreachable"
        try:
            get_connection().ping()
        except redis.exceptions.RedisError:
            logger.exception("Health check: Redis unreachable")
            checks["redis"] = "unreachable"

        healthy = set(checks.values()) == {"ok"}
        code = status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE
        return Response(checks, status=code)
