"""How backtick stores rq jobs: JSON only, and retries that go back to the one schedule."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq_scheduler import Scheduler

from . import conf

logger = logging.getLogger(__name__)

# The sorted set of rq-scheduler: job id -> UNIX time (with fractions) it is due.
SCHEDULE_KEY = Scheduler.scheduled_jobs_key


def bounded_text(value: Any, limit: int | None = None) -> str:
    """A text form of ``value`` no longer than ``limit`` characters."""
    limit = limit or conf.get("BACKTICK_RESULT_MAX_CHARS")
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 40]}... [{len(text) - limit + 40} characters cut]"


class JobSerializer:
    """rq serializer that writes and reads JSON only.

    Job data always is JSON because it comes from JSON requests. A task may return
    anything, though; a return value that JSON cannot carry is stored as bounded text
    instead of failing the job after it ran.
    """

    @staticmethod
    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, default=bounded_text).encode("utf-8")

    @staticmethod
    def loads(data: bytes | str) -> Any:
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        return json.loads(data)


class BacktickJob(Job):
    """rq's Job with the JSON serializer as default and retries kept in the schedule.

    rq puts a retry with an interval in a registry that only a worker started with
    ``--with-scheduler`` serves. Backtick keeps every future run, retries included, in
    rq-scheduler's sorted set instead, so the scheduler process alone moves them to
    their queue and no worker needs to hold any timing state.
    """

    def __init__(self, id: str | None = None, connection=None, serializer=None) -> None:
        super().__init__(
            id=id, connection=connection, serializer=serializer or JobSerializer
        )

    def retry(self, queue: Queue, pipeline) -> None:
        interval = self.get_retry_interval()
        self.retries_left = (self.retries_left or 1) - 1
        if not interval:
            queue._enqueue_job(
                self, pipeline=pipeline, at_front=self.enqueue_at_front_on_retry
            )
            logger.info(
                "Task %s retried now, %s retries left",
                self.id,
                self.retries_left,
                extra={"event": "task_retried", "task_id": self.id},
            )
            return

        self.set_status(JobStatus.SCHEDULED, pipeline=pipeline)
        self.save(pipeline=pipeline)
        pipeline.zadd(SCHEDULE_KEY, {self.id: time.time() + interval})
        logger.info(
            "Task %s retried in %ss, %s retries left",
            self.id,
            interval,
            self.retries_left,
            extra={"event": "task_retried", "task_id": self.id},
        )


def move_scheduled_job(connection: redis.Redis, job_id: str) -> BacktickJob | None:
    """Move a job from the schedule to its queue now; None if it is no longer scheduled.

    The transaction watches the job's hash: a cancel changes that hash, so a job that is
    canceled meanwhile makes the transaction fail instead of being enqueued. A schedule
    entry whose job hash is gone is dropped.
    """
    job_key = BacktickJob.key_for(job_id)
    with connection.pipeline() as pipe:
        try:
            pipe.watch(job_key)
            if pipe.zscore(SCHEDULE_KEY, job_id) is None:
                return None
            try:
                job = BacktickJob.fetch(job_id, connection=connection)
            except NoSuchJobError:
                pipe.multi()
                pipe.zrem(SCHEDULE_KEY, job_id)
                pipe.execute()
                logger.warning(
                    "Task %s was due but its job is gone from Redis",
                    job_id,
                    extra={"event": "task_job_missing", "task_id": job_id},
                )
                return None

            queue = Queue(
                job.origin,
                connection=connection,
                job_class=BacktickJob,
                serializer=JobSerializer,
            )
            pipe.multi()
            pipe.zrem(SCHEDULE_KEY, job_id)
            queue.enqueue_job(job, pipeline=pipe, at_front=bool(job.enqueue_at_front))
            pipe.execute()
        except redis.WatchError:
            return None
    return job
