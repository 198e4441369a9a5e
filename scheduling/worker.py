"""The rq worker that ``manage.py rqworker`` runs: JSON jobs, fresh database connections
in every work horse, and an audit row that follows the job."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connections
from rq.worker import Worker

from . import mirror
from .jobs import BacktickJob, JobSerializer

logger = logging.getLogger(__name__)


class BacktickWorker(Worker):
    """An rq Worker that keeps each job's ScheduledTask row up to date.

    The mirror is written from whichever process handles a step: the work horse for a
    start, a success, or an exception; the worker itself when the horse was killed.
    """

    job_class = BacktickJob

    def __init__(self, *args: Any, serializer: Any = None, **kwargs: Any) -> None:
        # django-rq's rqworker passes rq's pickle serializer by default; jobs here are
        # JSON, and nothing the project runs may unpickle what it reads from Redis.
        kwargs["job_class"] = BacktickJob
        kwargs["serializer"] = JobSerializer
        super().__init__(*args, **kwargs)

    def fork_work_horse(self, job, queue) -> None:
        # A forked horse must not share the parent's database sockets: close them so
        # that each side opens its own.
        connections.close_all()
        super().fork_work_horse(job, queue)

    def perform_job(self, job, queue, execution) -> bool:
        try:
            return super().perform_job(job, queue, execution)
        finally:
            connections.close_all()

    def prepare_job_execution(
        self, job, remove_from_intermediate_queue: bool = False
    ) -> None:
        super().prepare_job_execution(job, remove_from_intermediate_queue)
        mirror.record_task_started(job.id, worker_name=self.name)
        logger.info(
            "Task %s started on %s",
            job.id,
            self.name,
            extra={"event": "task_started", "task_id": job.id, "queue": job.origin},
        )

    def handle_job_success(self, job, queue, started_job_registry, execution) -> None:
        super().handle_job_success(job, queue, started_job_registry, execution)
        mirror.record_task_finished(job.id, result=getattr(job, "_result", None))

    def handle_job_failure(
        self, job, queue, started_job_registry=None, exc_string="", execution=None
    ) -> None:
        stopped = self._stopped_job_id == job.id
        retry = job.should_retry and not stopped
        if retry:
            # Recorded before rq writes the retry, so a worker that picks the retried job
            # up at once always finds the row ready to start again.
            mirror.record_task_retried(
                job.id,
                error=exc_string,
                retry_in=job.get_retry_interval(),
                retries_left=job.retries_left - 1,
            )

        super().handle_job_failure(
            job,
            queue,
            started_job_registry=started_job_registry,
            exc_string=exc_string,
            execution=execution,
        )

        if not retry:
            mirror.record_task_failed(job.id, error=exc_string, stopped=stopped)
