"""The tasks backtick ships with; each is registered in settings.BACKTICK_TASKS."""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from rq import Retry

from scheduling.registry import task

logger = logging.getLogger(__name__)

# Waits of 1, 2 and 4 seconds between the attempts of raise_exception_again.
BACKOFF_INTERVALS = [2**i for i in range(3)]


def on_success_callback(
    job: Any, connection: Any, result: Any, *args: Any, **kwargs: Any
) -> None:
    logger.info("on_success callback of task %s", job.id, extra={"task_id": job.id})


def on_failure_callback(
    job: Any, connection: Any, *exc_info: Any, **kwargs: Any
) -> None:
    logger.error("on_failure callback of task %s", job.id, extra={"task_id": job.id})


@task(queue="default", timeout=60, result_ttl=600)
def do_something(*, how_long: int) -> str:
    """Pretend to work for how_long seconds."""
    logger.info("Starting to do something for %s seconds", how_long)
    time.sleep(how_long)
    logger.info("Finished doing something")
    return f"Did something for {how_long} seconds"


@task(queue="default", timeout=60, result_ttl=600, retry=Retry(max=3, interval=2))
def raise_exception() -> None:
    """Always fail, to show rq retrying a task three times, two seconds apart."""
    raise ValueError("This is an exception")


@task(
    queue="another",
    timeout=60,
    result_ttl=600,
    retry=Retry(max=len(BACKOFF_INTERVALS), interval=BACKOFF_INTERVALS),
    on_success=on_success_callback,
    on_failure=on_failure_callback,
)
def raise_exception_again() -> None:
    """Always fail, retrying with backoff (1, 2, 4 s); the failure callback runs each time."""
    raise ValueError("This is an exception, again")


@task(queue="default", timeout=30, result_ttl=600)
def make_request(*, url: str, data: dict | None = None) -> dict[str, Any]:
    """POST data as JSON to url; return the answer's status code and size.

    Any answer is a result, whatever its status; only a failure to get one (refused
    connection, timeout) fails the task.
    """
    response = requests.post(url, json=data, timeout=10)
    return {"status_code": response.status_code, "length": len(response.content)}
