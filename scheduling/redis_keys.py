"""Access to the Redis that holds queues, jobs and the schedule."""

from __future__ import annotations

import django_rq
from redis import Redis
from rq.queue import Queue


def get_connection() -> Redis:
    return django_rq.get_connection("default")


def get_queue(name: str) -> Queue:
    return django_rq.get_queue(name)
