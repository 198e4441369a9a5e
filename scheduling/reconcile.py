"""Heal audit rows that no live process will update any more.

Workers keep the mirror right as jobs move. What they cannot cover: a worker killed
with its job in hand, a job whose hash vanished from Redis (flushed, expired, lost with
an unpersisted Redis), or a mirror write that failed. This pass reads each pending row's
job from Redis and brings the row to what Redis says, or marks it failed when its job is
gone. It never moves a row out of a final status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from rq.registry import StartedJobRegistry

from . import conf, mirror
from .actors import Actor
from .jobs import BacktickJob
from .models import FINAL_STATUSES, Interface, ScheduledTask, TaskEvent, TaskStatus
from .redis_keys import get_connection, get_queue

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
LOST_ERROR = "The rq job of this task is no longer in Redis; it cannot run."


@dataclass
class ReconcileReport:
    checked: int = 0
    changed: int = 0


def reconcile_tasks(
    *, interface: str = Interface.SCHEDULER, now: float | None = None
) -> ReconcileReport:
    """Bring every stale pending row in line with its job in Redis; return what was done.

    ``now`` (a UNIX time) is when rq's registries count abandoned jobs from; the current
    time unless a test moves the clock.
    """
    actor = Actor.system(interface)
    _clean_abandoned_jobs(now)

    report = ReconcileReport()
    cutoff = timezone.now() - timedelta(seconds=conf.get("BACKTICK_RECONCILE_GRACE"))
    stale = (
        ScheduledTask.objects.exclude(status__in=FINAL_STATUSES)
        .filter(updated_at__lt=cutoff)
        # A future run is healthy by definition until it is due.
        .filter(~Q(status=TaskStatus.SCHEDULED) | Q(scheduled_for__lt=cutoff))
        .order_by("pk")
        .only("id", "status", "queue")
    )
    last_pk = None
    while True:
        page = stale if last_pk is None else stale.filter(pk__gt=last_pk)
        rows = list(page[:BATCH_SIZE])
        if not rows:
            return report
        report.checked += len(rows)
        report.changed += _heal(rows, actor)
        last_pk = rows[-1].pk


def _clean_abandoned_jobs(now: float | None) -> None:
    """Let rq fail or retry jobs whose worker died mid-run, as its own workers would."""
    for name in settings.RQ_QUEUES:
        registry = StartedJobRegistry(queue=get_queue(name), job_class=BacktickJob)
        registry.cleanup(timestamp=now)


def _heal(rows: list[ScheduledTask], actor: Actor) -> int:
    connection = get_connection()
    with connection.pipeline(transaction=False) as pipe:
        for row in rows:
            pipe.hget(BacktickJob.key_for(str(row.id)), "status")
        statuses = [s.decode() if s else None for s in pipe.execute()]

    changed = 0
    for row, redis_status in zip(rows, statuses, strict=True):
        if redis_status == row.status:
            continue
        changed += _heal_row(row, redis_status, actor)
    return changed


def _heal_row(row: ScheduledTask, redis_status: str | None, actor: Actor) -> int:
    task_id = str(row.id)
    if redis_status is None:
        return int(mirror.record_task_failed(task_id, error=LOST_ERROR, actor=actor))

    if redis_status == TaskStatus.FINISHED:
        job = BacktickJob.fetch(task_id, connection=get_connection())
        return int(
            mirror.record_task_finished(
                task_id, result=job.return_value(refresh=True), actor=actor
            )
        )
    if redis_status in (TaskStatus.FAILED, TaskStatus.STOPPED):
        job = BacktickJob.fetch(task_id, connection=get_connection())
        result = job.latest_result()
        error = (
            result.exc_string if result else ""
        ) or "Failed while no worker recorded it."
        stopped = redis_status == TaskStatus.STOPPED
        return int(
            mirror.record_task_failed(
                task_id, error=error, stopped=stopped, actor=actor
            )
        )
    if redis_status == TaskStatus.CANCELED:
        return _move(
            row, TaskStatus.CANCELED, TaskEvent.Kind.CANCELED, actor, final=True
        )
    if (
        redis_status in (TaskStatus.SCHEDULED, TaskStatus.QUEUED)
        and row.status == TaskStatus.STARTED
    ):
        # rq took the job back from a dead worker and will run it again.
        return _move(row, redis_status, TaskEvent.Kind.REQUEUED, actor, final=False)
    return 0


def _move(
    row: ScheduledTask, status: str, kind: str, actor: Actor, *, final: bool
) -> int:
    now = timezone.now()
    changes: dict[str, Any] = {"status": status}
    if final:
        changes["ended_at"] = now
    updated = ScheduledTask.objects.filter(pk=row.pk, status=row.status).update(
        **changes
    )
    if updated:
        TaskEvent.objects.create(
            task_id=row.pk,
            kind=kind,
            at=now,
            detail="reconciled from Redis",
            **actor.event_fields(),
        )
    return updated
