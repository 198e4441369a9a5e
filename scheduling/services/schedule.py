"""Schedule runs of registered tasks: validate, record, then write the rq jobs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from django.db import transaction
from django.utils import timezone
from rq.callbacks import Callback
from rq.job import Job, JobStatus

from .. import conf
from ..actors import Actor
from ..exceptions import InvalidSchedule, RedisUnavailable
from ..jobs import SCHEDULE_KEY, BacktickJob
from ..models import ScheduledTask, TaskEvent, TaskStatus
from ..redis_keys import get_connection, get_queue
from ..registry import Task, get_task, kwargs_problems, kwargs_storage_problem

logger = logging.getLogger(__name__)


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
    # Checked first: the signature check names keys, which must be printable text.
    unstorable = kwargs_storage_problem(
        kwargs, max_chars=conf.get("BACKTICK_MAX_KWARGS_CHARS")
    )
    if unstorable:
        raise InvalidSchedule({"kwargs": [unstorable]})
    problems = kwargs_problems(task, kwargs)
    if problems:
        raise InvalidSchedule({"kwargs": problems})
    run_times = [run_at.astimezone(UTC) for run_at in run_times or []]
    validate_run_times(run_times)

    now = timezone.now()
    # No run time means one run, now.
    due_times: list[datetime | None] = [*run_times] or [None]
    runs = [
        new_run(
            task_name=task_name,
            task=task,
            kwargs=kwargs,
            run_at=run_at,
            actor=actor,
            now=now,
        )
        for run_at in due_times
    ]
    save_runs(runs, actor=actor, now=now)
    write_jobs(task, runs)

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


def new_run(
    *,
    task_name: str,
    task: Task,
    kwargs: dict[str, Any],
    run_at: datetime | None,
    actor: Actor,
    now: datetime,
    requeued_from: ScheduledTask | None = None,
) -> ScheduledTask:
    """An unsaved run due at ``run_at``, or queued now when it is None."""
    return ScheduledTask(
        id=uuid.uuid4(),
        task_name=task_name,
        kwargs=kwargs,
        queue=task.queue,
        status=TaskStatus.SCHEDULED if run_at else TaskStatus.QUEUED,
        scheduled_for=run_at or now,
        created_at=now,
        created_by=actor.user,
        created_via=actor.interface,
        enqueued_at=None if run_at else now,
        requeued_from=requeued_from,
    )


def _first_event_detail(run: ScheduledTask) -> str:
    if run.requeued_from_id:
        return f"requeue of {run.requeued_from_id}"
    if run.status == TaskStatus.SCHEDULED:
        return f"due {run.scheduled_for.isoformat()}"
    return "run now"


def save_runs(runs: list[ScheduledTask], *, actor: Actor, now: datetime) -> None:
    """Insert the runs and their first event in one transaction."""
    with transaction.atomic():
        ScheduledTask.objects.bulk_create(runs)
        TaskEvent.objects.bulk_create(
            TaskEvent(
                task=run,
                kind=TaskEvent.Kind.SCHEDULED
                if run.status == TaskStatus.SCHEDULED
                else TaskEvent.Kind.ENQUEUED,
                at=now,
                detail=_first_event_detail(run),
                **actor.event_fields(),
            )
            for run in runs
        )


def build_job(task: Task, run: ScheduledTask, connection: redis.Redis) -> Job:
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


def write_jobs(task: Task, runs: list[ScheduledTask]) -> None:
    """Write the rq jobs of saved runs in one Redis transaction.

    If Redis refuses, the runs are marked failed and RedisUnavailable is raised.
    """
    try:
        _write_jobs(task, runs)
    except redis.exceptions.RedisError as exc:
        _mark_unwritten(runs, reason=f"Redis refused the job: {exc.__class__.__name__}")
        raise RedisUnavailable() from exc


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
