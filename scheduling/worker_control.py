"""Commands to running rq workers: stop the jobs they run, or stop the workers.

Workers listen on a pub/sub channel of their own; these functions publish rq's commands
there. A command reaches only a worker that is alive and subscribed at that moment.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from rq.command import send_shutdown_command
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from rq.worker import Worker

from .actors import Actor
from .exceptions import RedisUnavailable
from .jobs import BacktickJob
from .redis_keys import get_connection, get_queue
from .services import stop_tasks

logger = logging.getLogger(__name__)

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
    """Ask the workers to stop every task they run now; return the ids asked about.

    Goes through services.stop_tasks, which records each request with ``actor``; a job
    that ends before it is asked about is skipped. Raises RedisUnavailable.
    """
    report = stop_tasks(task_ids=running_task_ids(), actor=actor)
    return list(report.done)


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
