"""reconcile_tasks heals audit rows that no live process will update any more."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from scheduling.actors import Actor
from scheduling.jobs import BacktickJob
from scheduling.models import (
    FINAL_STATUSES,
    Interface,
    ScheduledTask,
    TaskEvent,
    TaskStatus,
)
from scheduling.reconcile import LOST_ERROR, reconcile_tasks
from scheduling.redis_keys import get_connection, get_queue
from scheduling.scheduler import RECONCILE_LOCK_KEY, BacktickScheduler
from scheduling.services import cancel_tasks
from scheduling.worker import BacktickWorker
from tests.factories import make_run
from tests.helpers import wait_until
from tests.processes import PROCESS_TIMEOUT, kill_with_its_horses

CREATOR = Actor.command("tests")


def lose_job(run: ScheduledTask) -> None:
    get_connection().delete(BacktickJob.key_for(str(run.pk)))


def forget_last_write(run: ScheduledTask, *, status: str) -> None:
    """Put the row back to ``status``, as if the mirror write after Redis had failed."""
    ScheduledTask.objects.filter(pk=run.pk).update(
        status=status, ended_at=None, result=None
    )


@override_settings(BACKTICK_RECONCILE_GRACE=0)
def test_reconcile__lost_job_fails_the_row_after_the_grace_period(db):
    run = make_run()
    lose_job(run)

    report = reconcile_tasks(interface=Interface.COMMAND)

    assert (report.checked, report.changed) == (1, 1)
    run.refresh_from_db()
    assert run.status == TaskStatus.FAILED
    assert run.error == LOST_ERROR
    assert run.ended_at is not None
    [event] = run.events.filter(kind=TaskEvent.Kind.FAILED)
    assert (event.actor, event.interface) == ("system", Interface.COMMAND)


def test_reconcile__lost_job_is_left_alone_within_the_grace_period(db):
    run = make_run()
    lose_job(run)

    report = reconcile_tasks(interface=Interface.COMMAND)

    assert (report.checked, report.changed) == (0, 0)
    run.refresh_from_db()
    assert run.status == TaskStatus.QUEUED


@override_settings(BACKTICK_RECONCILE_GRACE=0)
def test_reconcile__future_run_is_left_alone_until_it_is_due(db):
    run = make_run(due_in=3600)
    lose_job(run)

    report = reconcile_tasks(interface=Interface.COMMAND)

    assert report.changed == 0
    run.refresh_from_db()
    assert run.status == TaskStatus.SCHEDULED


@pytest.mark.django_db(transaction=True)
@override_settings(BACKTICK_RECONCILE_GRACE=0)
def test_reconcile__finished_job_brings_the_row_in_line():
    run = make_run()
    BacktickWorker([get_queue("default")], connection=get_connection()).work(burst=True)
    forget_last_write(run, status=TaskStatus.STARTED)

    report = reconcile_tasks(interface=Interface.COMMAND)

    assert report.changed == 1
    run.refresh_from_db()
    assert run.status == TaskStatus.FINISHED
    assert run.result == "Did something for 0 seconds"
    assert run.events.filter(kind=TaskEvent.Kind.FINISHED).count() == 2


@override_settings(BACKTICK_RECONCILE_GRACE=0)
def test_reconcile__canceled_job_brings_the_row_in_line(db):
    run = make_run()
    cancel_tasks(task_ids=[str(run.pk)], actor=CREATOR)
    forget_last_write(run, status=TaskStatus.QUEUED)

    report = reconcile_tasks(interface=Interface.COMMAND)

    assert report.changed == 1
    run.refresh_from_db()
    assert run.status == TaskStatus.CANCELED
    assert run.ended_at is not None
    event = run.events.filter(kind=TaskEvent.Kind.CANCELED).first()
    assert (event.actor, event.interface) == ("system", Interface.COMMAND)
    assert event.detail == "reconciled from Redis"


@pytest.mark.parametrize("status", sorted(FINAL_STATUSES))
@override_settings(BACKTICK_RECONCILE_GRACE=0)
def test_reconcile__final_row_is_never_changed(db, status):
    lost = make_run()
    lose_job(lost)
    queued = make_run()
    ScheduledTask.objects.filter(pk__in=[lost.pk, queued.pk]).update(status=status)
    events_before = TaskEvent.objects.count()

    report = reconcile_tasks(interface=Interface.COMMAND)

    assert (report.checked, report.changed) == (0, 0)
    assert set(ScheduledTask.objects.values_list("status", flat=True)) == {status}
    assert TaskEvent.objects.count() == events_before


@override_settings(BACKTICK_RECONCILE_GRACE=0)
def test_reconcile__run_of_a_worker_killed_mid_run_ends_failed(worker):
    run = make_run(how_long=60)
    wait_until(
        lambda: ScheduledTask.objects.get(pk=run.pk).status == TaskStatus.STARTED,
        timeout=PROCESS_TIMEOUT,
        what="the run to start",
    )
    kill_with_its_horses(worker.process)

    # rq counts a run as abandoned once its worker's heartbeat has lapsed: an hour on.
    reconcile_tasks(interface=Interface.COMMAND, now=time.time() + 3600)

    row = ScheduledTask.objects.get(pk=run.pk)
    assert row.status == TaskStatus.FAILED
    assert "AbandonedJobError" in row.error
    event = row.events.first()
    assert (event.kind, event.actor, event.interface) == ("failed", "system", "command")


def test_scheduler__heals_the_mirror_once_per_interval_across_schedulers(
    transactional_db, redis_db
):
    run = make_run(due_in=3600)
    lose_job(run)
    ScheduledTask.objects.filter(pk=run.pk).update(
        scheduled_for=timezone.now() - timedelta(hours=1),
        updated_at=timezone.now() - timedelta(hours=1),
    )
    first, second = (
        BacktickScheduler(connection=redis_db),
        BacktickScheduler(connection=redis_db),
    )

    first.reconcile_if_due()
    second.reconcile_if_due()

    row = ScheduledTask.objects.get(pk=run.pk)
    assert row.status == TaskStatus.FAILED
    assert row.error == LOST_ERROR
    assert row.events.filter(kind="failed", interface="scheduler").count() == 1
    assert redis_db.get(RECONCILE_LOCK_KEY).decode() == first.name
