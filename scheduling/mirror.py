"""Keep the audit rows in step with their rq jobs as workers and the scheduler move them.

Each transition is a conditional UPDATE from the statuses it may follow, so writes that
reach the database out of order never move a row backwards and never take a row out of
a final status. These functions are called from worker and scheduler processes and never
raise: a database hiccup is logged and left for `reconcile_tasks` to heal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from . import conf
from .actors import Actor
from .jobs import bounded_text
from .models import FINAL_STATUSES, Interface, ScheduledTask, TaskEvent, TaskStatus

logger = logging.getLogger(__name__)

WORKER = Actor.system(Interface.WORKER)
SCHEDULER = Actor.system(Interface.SCHEDULER)

STARTABLE = [
    TaskStatus.SCHEDULED,
    TaskStatus.QUEUED,
    TaskStatus.DEFERRED,
    TaskStatus.STARTED,
]


def bounded_result(value: Any) -> Any:
    """The result as JSON when it is JSON and small, else a bounded text form."""
    limit = conf.get("BACKTICK_RESULT_MAX_CHARS")
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return bounded_text(value, limit)
    return value if len(text) <= limit else bounded_text(text, limit)


def bounded_error(error: str) -> str:
    """The end of a traceback, where the exception is, within the configured size."""
    limit = conf.get("BACKTICK_ERROR_MAX_CHARS")
    if len(error) <= limit:
        return error
    return f"[{len(error) - limit} characters cut]\n{error[-limit:]}"


def _transition(
    task_id: str,
    *,
    allowed_from: Iterable[str],
    changes: dict[str, Any],
    kind: str,
    actor: Actor,
    detail: str = "",
    at: datetime | None = None,
) -> bool:
    at = at or timezone.now()
    try:
        with transaction.atomic():
            updated = ScheduledTask.objects.filter(
                pk=task_id, status__in=list(allowed_from)
            ).update(**changes)
            if updated:
                TaskEvent.objects.create(
                    task_id=task_id,
                    kind=kind,
                    at=at,
                    detail=detail[:500],
                    **actor.event_fields(),
                )
    except (DatabaseError, ValueError):
        logger.exception(
            "Could not record %s of task %s",
            kind,
            task_id,
            extra={"event": "mirror_write_failed", "task_id": task_id},
        )
        return False
    return bool(updated)


def record_tasks_enqueued(
    task_ids: list[str],
    *,
    actor: Actor = SCHEDULER,
    detail: str = "",
    due_now: bool = False,
) -> None:
    """These scheduled jobs were moved to their queues (by the scheduler, or on request).

    ``due_now`` records that they were brought forward: their due time becomes now.
    """
    if not task_ids:
        return
    now = timezone.now()
    try:
        with transaction.atomic():
            moved = list(
                ScheduledTask.objects.filter(
                    pk__in=task_ids, status=TaskStatus.SCHEDULED
                ).values_list("pk", flat=True)
            )
            changes = {"status": TaskStatus.QUEUED, "enqueued_at": now}
            if due_now:
                changes["scheduled_for"] = now
            ScheduledTask.objects.filter(
                pk__in=moved, status=TaskStatus.SCHEDULED
            ).update(**changes)
            TaskEvent.objects.bulk_create(
                TaskEvent(
                    task_id=pk,
                    kind=TaskEvent.Kind.ENQUEUED,
                    at=now,
                    detail=detail,
                    **actor.event_fields(),
                )
                for pk in moved
            )
    except (DatabaseError, ValueError):
        logger.exception("Could not record %d enqueued tasks", len(task_ids))


def record_task_started(task_id: str, *, worker_name: str) -> None:
    now = timezone.now()
    _transition(
        task_id,
        allowed_from=STARTABLE,
        changes={
            "status": TaskStatus.STARTED,
            "started_at": now,
            "ended_at": None,
            "attempts": F("attempts") + 1,
            "worker_name": worker_name[:200],
        },
        kind=TaskEvent.Kind.STARTED,
        actor=WORKER,
        detail=f"on {worker_name}",
        at=now,
    )


def record_task_finished(task_id: str, *, result: Any, actor: Actor = WORKER) -> bool:
    now = timezone.now()
    return _transition(
        task_id,
        allowed_from=[TaskStatus.STARTED, *STARTABLE],
        changes={
            "status": TaskStatus.FINISHED,
            "ended_at": now,
            "result": bounded_result(result),
            "error": "",
        },
        kind=TaskEvent.Kind.FINISHED,
        actor=actor,
        at=now,
    )


def record_task_retried(
    task_id: str, *, error: str, retry_in: float, retries_left: int
) -> None:
    now = timezone.now()
    when = "now" if not retry_in else f"in {retry_in:g}s"
    _transition(
        task_id,
        allowed_from=[TaskStatus.STARTED],
        changes={
            "status": TaskStatus.SCHEDULED if retry_in else TaskStatus.QUEUED,
            "ended_at": now,
            "error": bounded_error(error),
        },
        kind=TaskEvent.Kind.RETRIED,
        actor=WORKER,
        detail=f"retry {when}, {retries_left} left",
        at=now,
    )


def record_task_failed(
    task_id: str, *, error: str, stopped: bool = False, actor: Actor = WORKER
) -> bool:
    now = timezone.now()
    status = TaskStatus.STOPPED if stopped else TaskStatus.FAILED
    return _transition(
        task_id,
        allowed_from=[s for s in TaskStatus.values if s not in FINAL_STATUSES],
        changes={"status": status, "ended_at": now, "error": bounded_error(error)},
        kind=TaskEvent.Kind.STOPPED if stopped else TaskEvent.Kind.FAILED,
        actor=actor,
        detail=error.strip().splitlines()[-1][:500] if error.strip() else "",
        at=now,
    )
