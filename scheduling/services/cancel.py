"""Cancel runs that have not started: atomically in Redis, then in the audit rows."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import redis
from django.db import transaction
from django.utils import timezone

from .. import conf
from ..actors import Actor
from ..exceptions import RedisUnavailable
from ..jobs import SCHEDULE_KEY, BacktickJob
from ..models import FINAL_STATUSES, ScheduledTask, TaskEvent, TaskStatus
from ..redis_keys import get_connection, queues_of
from .ids import parse_task_id

logger = logging.getLogger(__name__)

# Take a job out of the schedule, its queue, or the deferred registry, in one atomic
# step, and mark it canceled with an expiry. Whoever removes the id first owns the job:
# the scheduler's move to a queue is a script that starts with the same ZREM, so a job
# is never both canceled and enqueued.
CANCEL_SCRIPT = """
local job_key, schedule_key, queue_key, deferred_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local job_id, ttl = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', job_key) == 0 then
    redis.call('ZREM', schedule_key, job_id)
    return 'missing'
end
if redis.call('ZREM', schedule_key, job_id) == 1
        or redis.call('LREM', queue_key, 0, job_id) > 0
        or redis.call('ZREM', deferred_key, job_id) == 1 then
    redis.call('HSET', job_key, 'status', 'canceled', 'ended_at', ARGV[3])
    redis.call('EXPIRE', job_key, ttl)
    return 'removed'
end
return redis.call('HGET', job_key, 'status') or 'missing'
"""


class Outcome:
    CANCELED = "canceled"
    NOT_FOUND = "not_found"
    ALREADY_FINISHED = "already_finished"
    FAILED = "failed"
    RUNNING = "running"
    STOPPED = "stopped"
    ALREADY_CANCELED = "already_canceled"


# What the status left on a job that could not be taken out means for the caller.
OUTCOME_BY_STATUS: dict[str, str] = {
    TaskStatus.FINISHED: Outcome.ALREADY_FINISHED,
    TaskStatus.FAILED: Outcome.FAILED,
    TaskStatus.STOPPED: Outcome.STOPPED,
    TaskStatus.CANCELED: Outcome.ALREADY_CANCELED,
    # A queued job that is no longer in its list has just been taken by a worker.
    TaskStatus.QUEUED: Outcome.RUNNING,
    TaskStatus.STARTED: Outcome.RUNNING,
    TaskStatus.SCHEDULED: Outcome.RUNNING,
}


@dataclass
class CancelReport:
    canceled: list[str] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)

    @property
    def skipped(self) -> dict[str, str]:
        return {
            task_id: o for task_id, o in self.outcomes.items() if o != Outcome.CANCELED
        }


def cancel_tasks(
    *, task_ids: Iterable[Any], actor: Actor, enqueue_dependents: bool = False
) -> CancelReport:
    """Cancel each scheduled, queued or deferred task; report what happened to every id.

    A canceled job is gone from the schedule and from its queue, and its hash expires
    after BACKTICK_CANCELED_JOB_TTL. Running, finished and unknown tasks are left alone
    and reported with their outcome. Raises RedisUnavailable when Redis is down.

    Order of writes: Redis first, where the cancellation takes effect atomically, then
    the audit rows. If the second write fails, `reconcile_tasks` reads the canceled
    status back from the job hash.
    """
    report = CancelReport()
    parsed = {str(value): parse_task_id(value) for value in task_ids}
    rows = ScheduledTask.objects.in_bulk(
        [pk for pk in parsed.values() if pk is not None]
    )

    known = []
    for given, pk in parsed.items():
        if pk is None or pk not in rows:
            report.outcomes[given] = Outcome.NOT_FOUND
        else:
            known.append((given, rows[pk]))

    try:
        verdicts = _cancel_in_redis([row for _, row in known])
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc

    canceled_rows = []
    for (given, row), verdict in zip(known, verdicts, strict=True):
        if verdict == "removed":
            report.canceled.append(given)
            canceled_rows.append(row)
            report.outcomes[given] = Outcome.CANCELED
        elif verdict == "missing":
            # Nothing left in Redis: a final row tells why, any other row lost its job.
            final = row.status in FINAL_STATUSES
            report.outcomes[given] = (
                OUTCOME_BY_STATUS[row.status] if final else Outcome.NOT_FOUND
            )
        else:
            report.outcomes[given] = OUTCOME_BY_STATUS.get(verdict, Outcome.RUNNING)

    _record_canceled(canceled_rows, actor)
    if enqueue_dependents:
        _enqueue_dependents(canceled_rows)
    return report


def _cancel_in_redis(rows: list[ScheduledTask]) -> list[str]:
    if not rows:
        return []
    connection = get_connection()
    script = connection.register_script(CANCEL_SCRIPT)
    ttl = conf.get("BACKTICK_CANCELED_JOB_TTL")
    ended_at = timezone.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    queues = queues_of(row.queue for row in rows)
    with connection.pipeline(transaction=False) as pipe:
        for row in rows:
            queue = queues[row.queue]
            keys = [
                BacktickJob.key_for(str(row.id)),
                SCHEDULE_KEY,
                queue.key,
                queue.deferred_job_registry.key,
            ]
            script(keys=keys, args=[str(row.id), ttl, ended_at], client=pipe)
        return [v.decode() if isinstance(v, bytes) else v for v in pipe.execute()]


def _record_canceled(rows: list[ScheduledTask], actor: Actor) -> None:
    if not rows:
        return
    now = timezone.now()
    with transaction.atomic():
        ScheduledTask.objects.filter(pk__in=[row.pk for row in rows]).exclude(
            status__in=FINAL_STATUSES
        ).update(status=TaskStatus.CANCELED, ended_at=now)
        TaskEvent.objects.bulk_create(
            TaskEvent(
                task=row, kind=TaskEvent.Kind.CANCELED, at=now, **actor.event_fields()
            )
            for row in rows
        )
    for row in rows:
        logger.info(
            "Task %s canceled by %s",
            row.id,
            actor.label,
            extra={
                "event": "task_canceled",
                "task_id": str(row.id),
                "queue": row.queue,
            },
        )


def _enqueue_dependents(rows: list[ScheduledTask]) -> None:
    connection = get_connection()
    queues = queues_of(row.queue for row in rows)
    for row in rows:
        job = BacktickJob.fetch(str(row.id), connection=connection)
        queues[row.queue].enqueue_dependents(job)
