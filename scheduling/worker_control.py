"""Commands to running rq workers: stop the jobs they run, or stop the workers.

Workers listen on a pub/sub channel of their own; these functions publish rq's commands
there. A command reaches only a worker that is alive and subscribed at that moment.
"""

from __future__ import annotations

import logging
from datetime import datetime

import redis
from django.conf import settings
from django.utils import timezone
from rq.command import send_shutdown_command, send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from rq.worker import Worker

from .actors import Actor
from .exceptions import RedisUnavailable
from .jobs import BacktickJob, JobSerializer
from .models import ScheduledTask, TaskEvent
from .redis_keys import get_connection, get_queue
from .services import parse_task_id

logger = logging.getLogger(__name__)

STOP_REQUESTED = "stop requested"


# --- running jobs --------------------------------------------------------------------


def running_task_ids() -> list[str]:
    """Ids of the jobs that workers are running now, across every configured queue.

    Registry entries whose job is no longer started (it has just ended, or its worker
    died and rq has not cleaned up yet) are left out. Raises RedisUnavailable.
    """
    try:
        connection = get_connection()
        ids: dict[str, None] = {}
        for name in settings.RQ_QUEUES:
            registry = StartedJobRegistry(queue=get_queue(name), job_class=BacktickJob)
            ids.update(dict.fromkeys(registry.get_job_ids(cleanup=False)))
        with connection.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hget(BacktickJob.key_for(job_id), "status")
            statuses = pipe.execute()
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc
    return [
        job_id
        for job_id, status in zip(ids, statuses, strict=True)
        if status is not None and status.decode() == JobStatus.STARTED
    ]


def stop_running_tasks(*, actor: Actor) -> list[str]:
    """Ask the worker running each started job to stop it; return the ids asked about.

    The worker kills the job's work horse and records the task stopped, as the worker.
    This adds a 'stopped' event with the detail "stop requested" and ``actor`` to each
    task asked about, so that the history says who stopped it. Returns [] when nothing
    runs. Raises RedisUnavailable, after recording the requests already sent.

    Order of writes: each command is published first, then the audit events, stamped
    with the time just before publishing so that they sort before the worker's own. A
    job that ends before it is asked about is skipped and gets no event. A job without
    an audit row is asked to stop all the same.
    """
    connection = get_connection()
    asked: dict[str, datetime] = {}
    try:
        for job_id in running_task_ids():
            requested_at = timezone.now()
            try:
                send_stop_job_command(connection, job_id, serializer=JobSerializer)
            except (NoSuchJobError, InvalidJobOperation):
                continue
            asked[job_id] = requested_at
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc
    finally:
        _record_stop_requests(asked, actor)
    return list(asked)


def _record_stop_requests(asked: dict[str, datetime], actor: Actor) -> None:
    if not asked:
        return
    valid_ids = [pk for pk in map(parse_task_id, asked) if pk is not None]
    rows = ScheduledTask.objects.filter(pk__in=valid_ids).values_list("pk", flat=True)
    known = {str(pk) for pk in rows}
    TaskEvent.objects.bulk_create(
        TaskEvent(
            task_id=job_id,
            kind=TaskEvent.Kind.STOPPED,
            at=requested_at,
            detail=STOP_REQUESTED,
            **actor.event_fields(),
        )
        for job_id, requested_at in asked.items()
        if job_id in known
    )
    for job_id in asked:
        logger.info(
            "Task %s asked to stop by %s",
            job_id,
            actor.label,
            extra={"event": "task_stop_requested", "task_id": job_id},
        )


# --- workers -------------------------------------------------------------------------


def worker_names() -> list[str]:
    """Names of the rq workers registered on the project's Redis and still alive.

    Raises RedisUnavailable.
    """
    prefix = Worker.redis_worker_namespace_prefix
    try:
        connection = get_connection()
        keys = Worker.all_keys(connection=connection)
        with connection.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.exists(key)
            alive = pipe.execute()
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc
    # A worker that died without deregistering stays listed until its hash expires.
    return sorted(
        key[len(prefix) :] for key, exists in zip(keys, alive, strict=True) if exists
    )


def stop_workers() -> list[str]:
    """Tell every registered worker to finish its current job, then exit; name them.

    A worker at rest exits at once; none takes another job. Returns [] when no worker is
    registered. Raises RedisUnavailable.
    """
    names = worker_names()
    connection = get_connection()
    try:
        for name in names:
            send_shutdown_command(connection, name)
            logger.info(
                "Worker %s told to shut down",
                name,
                extra={"event": "worker_shutdown_requested", "worker": name},
            )
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc
    return names
