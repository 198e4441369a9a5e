"""How backtick stores rq jobs: JSON only, and retries that go back to the one schedule."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.utils import now as utcnow
from rq.utils import utcformat
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


# Move one job from the schedule to its queue, as rq's own enqueue leaves it: status
# queued, enqueue time, the queue known to rq, the job's ttl applied, the id pushed. The
# ZREM decides: whoever removes the id from the schedule owns the job, so a job that a
# cancel or another scheduler took first is left alone. Returns 1 when moved, 0 when the
# id was no longer scheduled, -1 when its hash was gone (the entry is dropped).
MOVE_TO_QUEUE_SCRIPT = """
local job_key, schedule_key, queues_key = KEYS[1], KEYS[2], KEYS[3]
local job_id, enqueued_at, queue_prefix = ARGV[1], ARGV[2], ARGV[3]
if redis.call('ZREM', schedule_key, job_id) == 0 then
    return 0
end
local origin = redis.call('HGET', job_key, 'origin')
if not origin then
    return -1
end
local queue_key = queue_prefix .. origin
redis.call('HSET', job_key, 'status', 'queued', 'enqueued_at', enqueued_at)
local ttl = tonumber(redis.call('HGET', job_key, 'ttl') or '')
if ttl and ttl > 0 then
    redis.call('EXPIRE', job_key, ttl)
end
redis.call('SADD', queues_key, queue_key)
if redis.call('HGET', job_key, 'enqueue_at_front') == '1' then
    redis.call('LPUSH', queue_key, job_id)
else
    redis.call('RPUSH', queue_key, job_id)
end
return 1
"""


def move_scheduled_jobs(connection: redis.Redis, job_ids: list[str]) -> list[str]:
    """Move these jobs from the schedule to their queues now; return the ids moved.

    One round trip for the lot. An id that is no longer scheduled (canceled, moved by
    another scheduler) is skipped; an entry whose job hash is gone is dropped.
    """
    if not job_ids:
        return []
    script = connection.register_script(MOVE_TO_QUEUE_SCRIPT)
    enqueued_at = utcformat(utcnow())
    with connection.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            script(
                keys=[
                    BacktickJob.key_for(job_id),
                    SCHEDULE_KEY,
                    Queue.redis_queues_keys,
                ],
                args=[job_id, enqueued_at, Queue.redis_queue_namespace_prefix],
                client=pipe,
            )
        outcomes = pipe.execute()

    for job_id, outcome in zip(job_ids, outcomes, strict=True):
        if outcome == -1:
            logger.warning(
                "Task %s was due but its job is gone from Redis",
                job_id,
                extra={"event": "task_job_missing", "task_id": job_id},
            )
    return [
        job_id
        for job_id, outcome in zip(job_ids, outcomes, strict=True)
        if outcome == 1
    ]
