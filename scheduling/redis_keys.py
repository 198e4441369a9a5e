"""Access to the Redis that holds queues, jobs and the schedule.

One client (and so one connection pool) per Redis URL and process; redis-py's pool
notices a fork and opens fresh connections in the child. The URL is read from the
settings at call time so that tests can point the app at another server.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from django.conf import settings
from redis import Redis
from rq.queue import Queue

from .jobs import BacktickJob, JobSerializer


@cache
def _client(url: str) -> Redis:
    return Redis.from_url(url)


def get_connection() -> Redis:
    return _client(settings.RQ_QUEUES["default"]["URL"])


def queues_of(names: Iterable[str]) -> dict[str, Queue]:
    """One queue object per distinct name, for loops over many rows of few queues."""
    return {name: get_queue(name) for name in set(names)}


def get_queue(name: str) -> Queue:
    """The rq queue ``name`` with the project's job class and JSON serializer."""
    config: dict[str, Any] = settings.RQ_QUEUES.get(name, {})
    return Queue(
        name,
        connection=get_connection(),
        job_class=BacktickJob,
        serializer=JobSerializer,
        default_timeout=config.get("DEFAULT_TIMEOUT"),
    )
