"""The whole service at work: gunicorn, an rq worker and the scheduler as real processes,
driven over HTTP with a token, against the test database and the test Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from scheduling.jobs import SCHEDULE_KEY, BacktickJob
from scheduling.redis_keys import get_connection
from tests.helpers import in_seconds, wait_until

from .support import Stack, event_kinds, parse_time

pytestmark = pytest.mark.e2e


def test_scheduled_task_starts_on_time(stack: Stack) -> None:
    due = in_seconds(2.5)
    [task_id] = stack.api.schedule("do_something", at=[due], kwargs={"how_long": 1})

    task = stack.api.wait_until_final(task_id, timeout=15)

    started_at = parse_time(task["started_at"])
    print(
        f"\n2.5 s task started {(started_at - due).total_seconds() * 1000:.0f} ms after due"
    )
    assert parse_time(task["scheduled_for"]) == due
    assert task["status"] == "finished"
    assert due <= started_at < due + timedelta(seconds=1)
    assert parse_time(task["ended_at"]) - started_at >= timedelta(seconds=1)
    assert task["attempts"] == 1
    assert task["result"] == "Did something for 1 seconds"
    assert event_kinds(task) == ["scheduled", "enqueued", "started", "finished"]


def test_canceled_task__never_runs(stack: Stack) -> None:
    due = in_seconds(2)
    [canceled_id] = stack.api.schedule("do_something", at=[due], kwargs={"how_long": 1})
    # Due just after the canceled run: once it has run, the scheduler has gone past the
    # canceled run's due time, so the check below does not hang on a guessed delay.
    [control_id] = stack.api.schedule(
        "do_something", at=[due + timedelta(milliseconds=200)], kwargs={"how_long": 1}
    )

    answer = stack.api.unschedule([canceled_id])

    assert answer == {
        "task_ids": [canceled_id],
        "outcomes": {},
        "message": "Tasks unscheduled successfully",
    }
    assert stack.api.task(canceled_id)["status"] == "canceled"
    assert stack.api.wait_until_final(control_id, timeout=15)["status"] == "finished"
    assert datetime.now(UTC) > due
    canceled = stack.api.task(canceled_id)
    assert canceled["status"] == "canceled"
    assert canceled["attempts"] == 0
    assert canceled["started_at"] is None
    assert event_kinds(canceled) == ["scheduled", "canceled"]
    redis = get_connection()
    assert redis.zscore(SCHEDULE_KEY, canceled_id) is None
    assert redis.hget(BacktickJob.key_for(canceled_id), "status") == b"canceled"


def test_scheduled_tasks_run__after_worker_killed(stack: Stack) -> None:
    due = in_seconds(3)
    task_ids = stack.api.schedule(
        "do_something",
        at=[due + timedelta(milliseconds=100 * n) for n in range(3)],
        kwargs={"how_long": 1},
    )

    stack.worker.kill()
    assert datetime.now(UTC) < due, (
        "the worker must die while its tasks are still scheduled"
    )
    assert {stack.api.task(task_id)["status"] for task_id in task_ids} == {"scheduled"}
    worker = stack.supervisor.start_worker()

    tasks = [stack.api.wait_until_final(task_id, timeout=20) for task_id in task_ids]
    assert [task["status"] for task in tasks] == ["finished"] * 3
    assert [task["attempts"] for task in tasks] == [1] * 3
    assert {task["worker_name"] for task in tasks} == {worker.rq_name}


def test_scheduled_tasks_run__after_scheduler_killed(stack: Stack) -> None:
    due = in_seconds(2)
    task_ids = stack.api.schedule(
        "do_something",
        at=[due, due + timedelta(milliseconds=100)],
        kwargs={"how_long": 1},
    )

    stack.scheduler.kill()
    assert datetime.now(UTC) < due, (
        "the scheduler must die while its tasks are still scheduled"
    )
    wait_until(
        lambda: datetime.now(UTC) > due + timedelta(milliseconds=500),
        timeout=5,
        what="the due time to pass while no scheduler runs",
    )
    # Nothing but a scheduler moves a due run to its queue.
    assert {stack.api.task(task_id)["status"] for task_id in task_ids} == {"scheduled"}
    restarted_at = datetime.now(UTC)
    stack.supervisor.start_scheduler()

    tasks = [stack.api.wait_until_final(task_id, timeout=25) for task_id in task_ids]
    assert [task["status"] for task in tasks] == ["finished"] * 2
    assert [task["attempts"] for task in tasks] == [1] * 2
    assert all(parse_time(task["started_at"]) > restarted_at for task in tasks)
    late = [(parse_time(t["started_at"]) - restarted_at).total_seconds() for t in tasks]
    print(f"\noverdue tasks started {late} s after the scheduler was restarted")


def test_failing_task_runs_four_times__retried_three_times(stack: Stack) -> None:
    due = in_seconds(1.5)
    [task_id] = stack.api.schedule("raise_exception", at=[due])

    task = stack.api.wait_until_final(task_id, timeout=30)

    assert task["status"] == "failed"
    assert task["attempts"] == 4
    assert "ValueError: This is an exception" in task["error"]
    kinds = event_kinds(task)
    assert kinds.count("retried") == 3
    assert kinds.count("started") == 4
    assert kinds[-1] == "failed"
    starts = [
        parse_time(e["at"]) for e in reversed(task["events"]) if e["kind"] == "started"
    ]
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(starts)]
    print(f"\nseconds between the attempts of raise_exception: {gaps}")
    # raise_exception retries two seconds after each failure.
    assert all(2 <= gap < 4 for gap in gaps)
