"""The worker keeps the audit rows in step; jobs run for real in forked work horses."""

from __future__ import annotations

import pytest
from django.test import override_settings

from scheduling.actors import Actor
from scheduling.jobs import SCHEDULE_KEY, BacktickJob
from scheduling.models import Interface, ScheduledTask, TaskStatus
from scheduling.redis_keys import get_connection, get_queue
from scheduling.scheduler import BacktickScheduler
from scheduling.services import schedule_task
from scheduling.worker import BacktickWorker
from tests.helpers import in_seconds
from tests.sample_tasks import TEST_TASKS

pytestmark = [pytest.mark.django_db(transaction=True)]

ACTOR = Actor.system(Interface.COMMAND)


def run_worker() -> None:
    queues = [get_queue("default"), get_queue("another")]
    BacktickWorker(queues, connection=get_connection()).work(burst=True)


def make_due_now(redis_db, task_id: str) -> None:
    redis_db.zadd(SCHEDULE_KEY, {task_id: 0})
    BacktickScheduler(connection=redis_db).enqueue_jobs()


def schedule_now(task_name: str, **kwargs) -> ScheduledTask:
    [run] = schedule_task(
        task_name=task_name, kwargs=kwargs, run_times=None, actor=ACTOR
    )
    return run


def test_worker__finished_task_is_recorded_with_its_result():
    run = schedule_now("do_something", how_long=0)

    run_worker()

    row = ScheduledTask.objects.get(pk=run.pk)
    assert row.status == TaskStatus.FINISHED
    assert row.result == "Did something for 0 seconds"
    assert row.attempts == 1
    assert row.started_at <= row.ended_at
    assert row.worker_name
    assert [e.kind for e in row.events.order_by("at", "id")] == [
        "enqueued",
        "started",
        "finished",
    ]


def test_worker__ignores_a_pickle_serializer_passed_by_rqworker():
    worker = BacktickWorker(
        [get_queue("default")],
        connection=get_connection(),
        serializer="rq.serializers.DefaultSerializer",
    )

    assert worker.serializer.__name__ == "JobSerializer"


def test_worker__retry_goes_back_to_the_schedule_then_fails_for_good(redis_db):
    run = schedule_now("raise_exception")

    run_worker()

    row = ScheduledTask.objects.get(pk=run.pk)
    assert row.status == TaskStatus.SCHEDULED
    assert "This is an exception" in row.error
    due = redis_db.zscore(SCHEDULE_KEY, str(run.pk))
    assert due == pytest.approx(in_seconds(2).timestamp(), abs=1.5)
    assert BacktickJob.fetch(str(run.pk), connection=redis_db).retries_left == 2

    for _ in range(3):
        make_due_now(redis_db, str(run.pk))
        run_worker()

    row.refresh_from_db()
    assert row.status == TaskStatus.FAILED
    assert row.attempts == 4
    kinds = [e.kind for e in row.events.order_by("at", "id")]
    assert kinds.count("retried") == 3
    assert kinds[-1] == "failed"
    assert redis_db.zscore(SCHEDULE_KEY, str(run.pk)) is None


def test_worker__retry_policy_holds_for_a_future_run(redis_db):
    [run] = schedule_task(
        task_name="raise_exception", kwargs={}, run_times=[in_seconds(60)], actor=ACTOR
    )
    make_due_now(redis_db, str(run.pk))

    run_worker()

    row = ScheduledTask.objects.get(pk=run.pk)
    assert row.status == TaskStatus.SCHEDULED
    assert row.events.filter(kind="retried").count() == 1
    assert redis_db.zscore(SCHEDULE_KEY, str(run.pk)) is not None


@override_settings(BACKTICK_TASKS=TEST_TASKS)
def test_worker__backoff_intervals_are_followed_in_order(redis_db):
    run = schedule_now("fail_with_retries")
    waits = []

    for _ in range(2):
        run_worker()
        # The wait counts from the end of the failed attempt, recorded just before rq
        # computes the due time of the retry.
        failed_at = ScheduledTask.objects.get(pk=run.pk).ended_at.timestamp()
        waits.append(redis_db.zscore(SCHEDULE_KEY, str(run.pk)) - failed_at)
        make_due_now(redis_db, str(run.pk))
    run_worker()

    assert waits == [pytest.approx(1, abs=0.2), pytest.approx(3, abs=0.2)]
    assert ScheduledTask.objects.get(pk=run.pk).status == TaskStatus.FAILED


@override_settings(BACKTICK_TASKS=TEST_TASKS)
def test_worker__non_json_result_is_kept_as_text(redis_db):
    run = schedule_now("return_opaque")

    run_worker()

    row = ScheduledTask.objects.get(pk=run.pk)
    assert row.status == TaskStatus.FINISHED
    assert row.result == "<Opaque thing>"
    job = BacktickJob.fetch(str(run.pk), connection=redis_db)
    assert job.return_value() == "<Opaque thing>"


@override_settings(BACKTICK_TASKS=TEST_TASKS, BACKTICK_RESULT_MAX_CHARS=1000)
def test_worker__huge_result_is_bounded_in_the_database():
    run = schedule_now("return_huge", size=1_000_000)

    run_worker()

    row = ScheduledTask.objects.get(pk=run.pk)
    assert row.status == TaskStatus.FINISHED
    assert len(row.result) <= 1000
    assert "characters cut" in row.result


@override_settings(BACKTICK_ERROR_MAX_CHARS=200)
def test_worker__long_traceback_keeps_its_end():
    [run] = schedule_task(
        task_name="raise_exception", kwargs={}, run_times=None, actor=ACTOR
    )

    run_worker()

    row = ScheduledTask.objects.get(pk=run.pk)
    assert len(row.error) < 250
    assert row.error.rstrip().endswith("ValueError: This is an exception")


def test_worker__canceled_queued_task_never_runs():
    from scheduling.services import cancel_tasks

    run = schedule_now("do_something", how_long=0)
    cancel_tasks(task_ids=[str(run.pk)], actor=ACTOR)

    run_worker()

    row = ScheduledTask.objects.get(pk=run.pk)
    assert row.status == TaskStatus.CANCELED
    assert row.attempts == 0
    assert not row.events.filter(kind="started").exists()
