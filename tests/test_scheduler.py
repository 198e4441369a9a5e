"""The scheduler moves due jobs to their queues, never early, never a canceled one."""

from __future__ import annotations

import time

import pytest

from scheduling.actors import Actor
from scheduling.jobs import SCHEDULE_KEY
from scheduling.models import Interface, ScheduledTask, TaskStatus
from scheduling.redis_keys import get_queue
from scheduling.scheduler import BacktickScheduler
from scheduling.services import cancel_tasks, schedule_task
from tests.helpers import in_seconds

pytestmark = pytest.mark.django_db

ACTOR = Actor.system(Interface.COMMAND)


def schedule_at(*moments):
    return schedule_task(
        task_name="do_something",
        kwargs={"how_long": 0},
        run_times=list(moments),
        actor=ACTOR,
    )


def test_scheduler__moves_due_jobs_and_records_them(redis_db):
    [run] = schedule_at(in_seconds(60))
    redis_db.zadd(SCHEDULE_KEY, {str(run.pk): time.time() - 1})

    moved = BacktickScheduler(connection=redis_db).enqueue_jobs()

    assert moved == [str(run.pk)]
    assert get_queue("default").job_ids == [str(run.pk)]
    assert redis_db.zcard(SCHEDULE_KEY) == 0
    row = ScheduledTask.objects.get(pk=run.pk)
    assert row.status == TaskStatus.QUEUED
    event = row.events.get(kind="enqueued")
    assert (event.actor, event.interface) == ("system", "scheduler")


def test_scheduler__never_moves_a_job_before_its_fractional_due_time(redis_db):
    [run] = schedule_at(in_seconds(60))
    due = time.time() + 0.4
    redis_db.zadd(SCHEDULE_KEY, {str(run.pk): due})
    scheduler = BacktickScheduler(connection=redis_db)

    moved_early = scheduler.enqueue_jobs()
    wait = scheduler.seconds_until_next_look()
    time.sleep(wait)
    while not (moved := scheduler.enqueue_jobs()):
        assert time.time() < due + 0.5, (
            "the job was not moved within half a second of its due time"
        )
        time.sleep(scheduler.seconds_until_next_look())
    moved_at = time.time()

    assert moved_early == []
    assert moved == [str(run.pk)]
    assert moved_at >= due


def test_scheduler__sleeps_no_longer_than_until_the_next_due_job(redis_db, settings):
    settings.BACKTICK_SCHEDULER_POLL_INTERVAL = 5
    scheduler = BacktickScheduler(connection=redis_db)
    assert scheduler.seconds_until_next_look() == 5

    schedule_at(in_seconds(1))

    assert 0.5 < scheduler.seconds_until_next_look() <= 1


def test_scheduler__canceled_job_is_never_moved(redis_db):
    [run] = schedule_at(in_seconds(60))
    cancel_tasks(task_ids=[str(run.pk)], actor=ACTOR)
    redis_db.zadd(SCHEDULE_KEY, {"unrelated": 0})

    moved = BacktickScheduler(connection=redis_db).enqueue_jobs()

    assert moved == []
    assert get_queue("default").count == 0
    assert ScheduledTask.objects.get(pk=run.pk).status == TaskStatus.CANCELED


def test_scheduler__cancel_between_read_and_move_wins(redis_db):
    [run] = schedule_at(in_seconds(60))
    task_id = str(run.pk)
    redis_db.zadd(SCHEDULE_KEY, {task_id: 0})

    class CancelingScheduler(BacktickScheduler):
        def due_job_ids(self, now):
            due = super().due_job_ids(now)
            # Another process cancels after the scheduler read the due ids.
            cancel_tasks(task_ids=due, actor=ACTOR)
            return due

    moved = CancelingScheduler(connection=redis_db).enqueue_jobs()

    assert moved == []
    assert get_queue("default").count == 0
    assert redis_db.hget(f"rq:job:{task_id}", "status") == b"canceled"


def test_scheduler__only_one_scheduler_moves_jobs_at_a_time(redis_db):
    first = BacktickScheduler(connection=redis_db)
    second = BacktickScheduler(connection=redis_db)

    assert first.acquire_lock() is True
    assert second.acquire_lock() is False
    first.remove_lock()
    assert second.acquire_lock() is True
    second.remove_lock()


def test_scheduler__moves_a_backlog_larger_than_one_batch(redis_db, monkeypatch):
    monkeypatch.setattr("scheduling.scheduler.BATCH_SIZE", 3)
    runs = schedule_at(*[in_seconds(60 + i) for i in range(7)])
    redis_db.zadd(SCHEDULE_KEY, {str(run.pk): 0 for run in runs})

    moved = BacktickScheduler(connection=redis_db).enqueue_jobs()

    assert sorted(moved) == sorted(str(run.pk) for run in runs)
    assert get_queue("default").count == 7


def test_scheduler__burst_run_registers_and_leaves_cleanly(redis_db):
    [run] = schedule_at(in_seconds(60))
    redis_db.zadd(SCHEDULE_KEY, {str(run.pk): 0})
    scheduler = BacktickScheduler(connection=redis_db)

    scheduler.run(burst=True)

    assert get_queue("default").job_ids == [str(run.pk)]
    assert redis_db.exists(scheduler.scheduler_lock_key) == 0
    assert redis_db.hexists(scheduler.key, "death")
