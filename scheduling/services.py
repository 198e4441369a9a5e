"""Every change of state of a scheduled task: schedule and cancel.

Entry points (API views, admin, management commands) call these functions and nothing
else; none of them writes ScheduledTask.status or talks to Redis on its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from django.db import transaction
from django.utils import timezone
from rq.callbacks import Callback
from rq.job import JobStatus

from . import conf
from .actors import Actor
from .exceptions import InvalidSchedule, RedisUnavailable
from .jobs import SCHEDULE_KEY, BacktickJob
from .models import FINAL_STATUSES, ScheduledTask, TaskEvent, TaskStatus
from .redis_keys import get_connection, get_queue
from .registry import Task, get_task, kwargs_problems

logger = logging.getLogger(__name__)


# --- schedule ------------------------------------------------------------------------


def validate_run_times(
    run_times: Sequence[datetime], *, now: datetime | None = None
) -> None:
    """Refuse naive, past, too distant, or too many run times; name the offending item."""
    limit = conf.get("BACKTICK_MAX_DATETIMES")
    if len(run_times) > limit:
        raise InvalidSchedule(
            {
                "datetimes": [
                    f"At most {limit} datetimes per request; got {len(run_times)}."
                ]
            }
        )

    now = now or timezone.now()
    horizon = now + timedelta(seconds=conf.get("BACKTICK_MAX_SCHEDULE_AHEAD"))
    problems: dict[int, list[str]] = {}
    for index, run_at in enumerate(run_times):
        if run_at.tzinfo is None:
            problems[index] = ["Give the datetime a UTC offset, such as Z or +00:00."]
        elif run_at <= now:
            problems[index] = [f"{run_at.isoformat()} is in the past."]
        elif run_at > horizon:
            problems[index] = [
                f"{run_at.isoformat()} is further ahead than the allowed "
                f"{conf.get('BACKTICK_MAX_SCHEDULE_AHEAD')} seconds."
            ]
    if problems:
        raise InvalidSchedule({"datetimes": problems})


def schedule_task(
    *,
    task_name: str,
    kwargs: dict[str, Any] | None,
    run_times: Sequence[datetime] | None,
    actor: Actor,
) -> list[ScheduledTask]:
    """Schedule one run of a registered task per run time, or one run now when there is none.

    Validates everything first: nothing is written unless the whole request is valid.
    Raises UnknownTask, InvalidSchedule, or RedisUnavailable.

    Order of writes: the audit rows are committed first, then every rq job is written to
    Redis in one transaction. A worker may pick a job up the moment it is in Redis, so
    its row must already exist. If Redis refuses, the rows are marked failed and
    RedisUnavailable is raised; if the process dies between the two writes, the rows stay
    pending without a job and `reconcile_tasks` marks them failed after its grace period.
    """
    task = get_task(task_name)
    kwargs = dict(kwargs or {})
    problems = kwargs_problems(task, kwargs)
    if problems:
        raise InvalidSchedule({"kwargs": problems})
    run_times = [run_at.astimezone(UTC) for run_at in run_times or []]
    validate_run_times(run_times)

    runs = _create_rows(
        task_name=task_name, task=task, kwargs=kwargs, run_times=run_times, actor=actor
    )
    try:
        _write_jobs(task, runs)
    except redis.exceptions.RedisError as exc:
        _mark_unwritten(runs, reason=f"Redis refused the job: {exc.__class__.__name__}")
        raise RedisUnavailable() from exc

    for run in runs:
        logger.info(
            "Task %s (%s) scheduled for %s",
            run.id,
            task_name,
            run.scheduled_for.isoformat(),
            extra={
                "event": "task_scheduled",
                "task_id": str(run.id),
                "queue": run.queue,
            },
        )
    return runs


def _create_rows(
    *,
    task_name: str,
    task: Task,
    kwargs: dict[str, Any],
    run_times: list[datetime],
    actor: Actor,
) -> list[ScheduledTask]:
    now = timezone.now()
    status = TaskStatus.SCHEDULED if run_times else TaskStatus.QUEUED
    runs = [
        ScheduledTask(
            id=uuid.uuid4(),
            task_name=task_name,
            kwargs=kwargs,
            queue=task.queue,
            status=status,
            scheduled_for=run_at,
            created_at=now,
            created_by=actor.user,
            created_via=actor.interface,
            enqueued_at=None if run_times else now,
        )
        for run_at in run_times or [now]
    ]
    kind = TaskEvent.Kind.SCHEDULED if run_times else TaskEvent.Kind.ENQUEUED
    with transaction.atomic():
        ScheduledTask.objects.bulk_create(runs)
        TaskEvent.objects.bulk_create(
            TaskEvent(
                task=run,
                kind=kind,
                at=now,
                detail=f"due {run.scheduled_for.isoformat()}"
                if run_times
                else "run now",
                **actor.event_fields(),
            )
            for run in runs
        )
    return runs


def build_job(task: Task, run: ScheduledTask, connection: redis.Redis) -> BacktickJob:
    """The rq job of one run, with every option of its task, not yet saved."""
    queue = get_queue(task.queue)
    return BacktickJob.create(
        task.path,
        kwargs=run.kwargs,
        connection=connection,
        id=str(run.id),
        origin=task.queue,
        timeout=task.timeout if task.timeout is not None else queue._default_timeout,
        result_ttl=task.result_ttl,
        ttl=task.ttl,
        failure_ttl=task.failure_ttl,
        retry=task.retry,
        description=task.description or f"{run.task_name}({_kwargs_text(run.kwargs)})",
        meta={**task.meta, "task_name": run.task_name},
        on_success=Callback(task.on_success) if task.on_success else None,
        on_failure=Callback(task.on_failure) if task.on_failure else None,
        on_stopped=Callback(task.on_stopped) if task.on_stopped else None,
    )


def _kwargs_text(kwargs: dict[str, Any]) -> str:
    # Names only: values may be private and descriptions show up in logs and dashboards.
    return ", ".join(kwargs)


def _write_jobs(task: Task, runs: list[ScheduledTask]) -> None:
    connection = get_connection()
    queue = get_queue(task.queue)
    with connection.pipeline() as pipe:
        for run in runs:
            job = build_job(task, run, connection)
            if run.status == TaskStatus.QUEUED:
                queue.enqueue_job(job, pipeline=pipe)
            else:
                job.set_status(JobStatus.SCHEDULED, pipeline=pipe)
                job.save(pipeline=pipe)
                pipe.sadd(queue.redis_queues_keys, queue.key)
                pipe.zadd(SCHEDULE_KEY, {job.id: run.scheduled_for.timestamp()})
        pipe.execute()


def _mark_unwritten(runs: list[ScheduledTask], *, reason: str) -> None:
    ids = [run.id for run in runs]
    now = timezone.now()
    ScheduledTask.objects.filter(pk__in=ids).update(
        status=TaskStatus.FAILED, ended_at=now, error=reason
    )
    TaskEvent.objects.bulk_create(
        TaskEvent(
            task_id=task_id,
            kind=TaskEvent.Kind.FAILED,
            at=now,
            actor="system",
            interface=run.created_via,
            detail=reason,
        )
        for task_id, run in zip(ids, runs, strict=True)
    )


# --- cancel --------------------------------------------------------------------------

# Take a job out of the schedule, its queue, or the deferred registry, in one atomic
# step, and mark it canceled with an expiry. Whoever removes the id first owns the job:
# the scheduler moves a job to its queue in a transaction watching the job's hash, which
# this script changes, so a job is never both canceled and enqueued.
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
OUTCOME_BY_STATUS = {
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


def parse_task_id(value: Any) -> uuid.UUID | None:
    """The UUID a task id stands for, or None: ids are compared whole, never by prefix."""
    if not isinstance(value, str):
        return None
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return parsed if str(parsed) == value.lower() else None


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
    with connection.pipeline(transaction=False) as pipe:
        for row in rows:
            queue = get_queue(row.queue)
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
    for row in rows:
        job = BacktickJob.fetch(str(row.id), connection=connection)
        get_queue(row.queue).enqueue_dependents(job)
