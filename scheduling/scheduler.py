"""The scheduler that ``manage.py rqscheduler`` runs.

rq-scheduler's stock loop wakes every 60 seconds and keeps due times in whole seconds, so
a task could start up to a minute late, or up to a second early. This one keeps due times
with their fractions, sleeps until the next due time (never longer than
BACKTICK_SCHEDULER_POLL_INTERVAL, so that new entries are seen quickly), and moves each
due job to its queue in a transaction that a concurrent cancel cannot slip through.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress

import redis
from django.db import close_old_connections
from rq_scheduler import Scheduler

from . import conf, mirror
from .jobs import SCHEDULE_KEY, BacktickJob, move_scheduled_jobs
from .reconcile import reconcile_tasks

logger = logging.getLogger(__name__)

RECONCILE_LOCK_KEY = "backtick:reconcile_lock"
REDIS_OUTAGE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# Longest wait between two attempts to reach Redis again, in seconds.
MAX_OUTAGE_BACKOFF = 5.0
# Due jobs read per round trip; a large backlog is moved in several batches.
BATCH_SIZE = 500


class BacktickScheduler(Scheduler):
    job_class = BacktickJob
    # Held only while jobs are moved; a scheduler killed holding it blocks the others
    # for at most this long.
    lock_ttl = 10

    def __init__(self, *args, **kwargs) -> None:
        kwargs["job_class"] = BacktickJob
        super().__init__(*args, **kwargs)
        self._last_reconcile = 0.0

    def acquire_lock(self) -> bool:
        self._lock_acquired = bool(
            self.connection.set(
                self.scheduler_lock_key, time.time(), ex=self.lock_ttl, nx=True
            )
        )
        return self._lock_acquired

    def heartbeat(self) -> None:
        """Renew the expiry of this scheduler's key and note the time of this tick.

        The admin's operations page reads 'last_tick' to show the scheduler is alive.
        """
        with self.connection.pipeline() as pipe:
            pipe.hset(self.key, "last_tick", time.time())
            pipe.expire(self.key, int(self._interval) + 10)
            pipe.execute()

    def due_job_ids(self, now: float) -> list[str]:
        ids = self.connection.zrangebyscore(
            SCHEDULE_KEY, "-inf", now, start=0, num=BATCH_SIZE
        )
        return [job_id.decode() for job_id in ids]

    def enqueue_jobs(self) -> list[str]:
        """Move every job that is due to its queue; return the ids moved."""
        moved: list[str] = []
        while True:
            due = self.due_job_ids(time.time())
            moved_now = move_scheduled_jobs(self.connection, due)
            mirror.record_tasks_enqueued(moved_now)
            for job_id in moved_now:
                logger.info(
                    "Task %s moved to its queue",
                    job_id,
                    extra={"event": "task_enqueued", "task_id": job_id},
                )
            moved.extend(moved_now)
            if len(due) < BATCH_SIZE:
                return moved

    def seconds_until_next_look(self) -> float:
        poll = float(conf.get("BACKTICK_SCHEDULER_POLL_INTERVAL"))
        upcoming = self.connection.zrange(SCHEDULE_KEY, 0, 0, withscores=True)
        if not upcoming:
            return poll
        return max(0.0, min(poll, upcoming[0][1] - time.time()))

    def reconcile_if_due(self) -> None:
        interval = int(conf.get("BACKTICK_RECONCILE_INTERVAL"))
        if time.monotonic() - self._last_reconcile < interval:
            return
        self._last_reconcile = time.monotonic()
        # One scheduler per interval heals the mirror, however many are running.
        if not self.connection.set(RECONCILE_LOCK_KEY, self.name, ex=interval, nx=True):
            return
        try:
            report = reconcile_tasks()
        except Exception:
            logger.exception(
                "Reconciling the audit mirror failed",
                extra={"event": "reconcile_failed"},
            )
            return
        if report.changed:
            logger.info(
                "Reconcile healed %d rows",
                report.changed,
                extra={"event": "reconcile_done"},
            )

    def run(self, burst: bool = False) -> None:
        self.register_birth()
        self._install_signal_handlers()
        logger.info(
            "Scheduler %s started", self.name, extra={"event": "scheduler_started"}
        )
        outage = 0.0
        try:
            while True:
                try:
                    self.tick()
                    wait = self.seconds_until_next_look()
                    outage = 0.0
                except REDIS_OUTAGE as exc:
                    # Keep running through a Redis restart: the schedule is in Redis,
                    # so nothing is lost meanwhile, and it resumes once Redis is back.
                    outage = min(max(outage * 2, 0.5), MAX_OUTAGE_BACKOFF)
                    logger.warning(
                        "Redis unreachable (%s); retrying in %.1fs",
                        exc.__class__.__name__,
                        outage,
                        extra={"event": "scheduler_redis_unreachable"},
                    )
                    wait = outage
                if burst:
                    break
                time.sleep(wait)
        finally:
            with suppress(*REDIS_OUTAGE):
                self.remove_lock()
                self.register_death()

    def tick(self) -> None:
        """One look at the schedule: keep alive, move what is due, heal when it is time."""
        # A long-running process gets no request cycle to drop a broken or expired
        # database connection (after a database restart, say); do it here.
        close_old_connections()
        self.heartbeat()
        if self.acquire_lock():
            try:
                self.enqueue_jobs()
            finally:
                self.remove_lock()
        self.reconcile_if_due()
