"""Errors of the scheduling app, each with the HTTP status and code it is answered with."""

from __future__ import annotations

import logging
from typing import Any

import redis
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class BacktickError(Exception):
    """Base of the app's errors; ``detail`` is safe to show to the client."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "backtick_error"

    def __init__(self, detail: Any) -> None:
        super().__init__(detail)
        self.detail = detail


class UnknownTask(BacktickError):
    code = "unknown_task"

    def __init__(self, name: Any) -> None:
        super().__init__(
            {
                "task_name": [
                    f"No task is registered under the name {name!r}; "
                    "GET /registered-tasks/ lists those that are."
                ]
            }
        )
        self.name = name


class InvalidSchedule(BacktickError):
    """The request names a registered task but its kwargs or datetimes are not acceptable."""

    code = "invalid_schedule"


class TaskNotFound(BacktickError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "task_not_found"

    def __init__(self, task_id: Any) -> None:
        super().__init__(f"No task has the id {task_id!r}.")
        self.task_id = task_id


class ActionRefused(BacktickError):
    """The task's status does not allow the action; ``reason`` is that status."""

    status_code = status.HTTP_409_CONFLICT
    code = "action_refused"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


class RedisUnavailable(BacktickError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "redis_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The schedule store (Redis) cannot be reached; nothing was changed. "
            "Try again later."
        )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the app's errors and a 503 when Redis is down."""
    if isinstance(exc, BacktickError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
        if isinstance(exc, ActionRefused):
            detail = {**detail, "reason": exc.reason}
        return Response(detail, status=exc.status_code)
    if isinstance(
        exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError
    ):
        logger.error(
            "Redis unreachable while serving %s", context.get("view"), exc_info=exc
        )
        return Response(
            {
                "detail": "The schedule store (Redis) cannot be reached; try again later."
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return exception_handler(exc, context)
