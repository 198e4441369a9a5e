"""The management commands, against real Redis, PostgreSQL and rq worker processes."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scheduling import worker_control
from scheduling.actors import Actor
from scheduling.jobs import SCHEDULE_KEY, BacktickJob
from scheduling.models import Interface, ScheduledTask, TaskEvent, TaskStatus
from scheduling.redis_keys import get_queue
from tests.factories import make_run
from tests.helpers import wait_until
from tests.processes import PROCESS_TIMEOUT, WorkerProcess

CREATOR = Actor.command("tests")


def run_command(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def status_of(run: ScheduledTask) -> str:
    return ScheduledTask.objects.values_list("status", flat=True).get(pk=run.pk)


def events_by(run: ScheduledTask, actor: str) -> list[TaskEvent]:
    return list(TaskEvent.objects.filter(task=run, actor=actor))


def wait_for_status(run: ScheduledTask, status: str, worker: WorkerProcess) -> None:
    try:
        wait_until(lambda: status_of(run) == status, timeout=PROCESS_TIMEOUT)
    except AssertionError as exc:
        raise AssertionError(
            f"{run.pk} never became {status}:\n{worker.output()}"
        ) from exc


# --- cancel_scheduled_tasks ----------------------------------------------------------


def test_cancel_scheduled_tasks__cancels_every_pending_task(db, redis_db):
    later = make_run(due_in=3600)
    queued = make_run()
    finished = make_run()
    ScheduledTask.objects.filter(pk=finished.pk).update(status=TaskStatus.FINISHED)

    output = run_command("cancel_scheduled_tasks")

    assert "canceled: 2" in output
    assert status_of(later) == status_of(queued) == TaskStatus.CANCELED
    assert status_of(finished) == TaskStatus.FINISHED
    [event] = events_by(later, "command:cancel_scheduled_tasks")
    assert (event.kind, event.interface) == (TaskEvent.Kind.CANCELED, Interface.COMMAND)
    assert redis_db.zscore(SCHEDULE_KEY, str(later.pk)) is None
    assert str(queued.pk) not in get_queue("default").get_job_ids()


def test_cancel_scheduled_tasks__only_the_named_task(db):
    something = make_run(due_in=3600)
    failing = make_run("raise_exception", due_in=3600)

    output = run_command("cancel_scheduled_tasks", "--task-name", "raise_exception")

    assert "canceled: 1" in output
    assert status_of(failing) == TaskStatus.CANCELED
    assert status_of(something) == TaskStatus.SCHEDULED


def test_cancel_scheduled_tasks__only_those_due_before(db):
    soon = make_run(due_in=600)
    later = make_run(due_in=7200)
    before = (timezone.now() + timedelta(hours=1)).isoformat()

    output = run_command("cancel_scheduled_tasks", "--before", before)

    assert "canceled: 1" in output
    assert status_of(soon) == TaskStatus.CANCELED
    assert status_of(later) == TaskStatus.SCHEDULED


def test_cancel_scheduled_tasks__name_and_before_together(db):
    match = make_run(due_in=600)
    other_task = make_run("raise_exception", due_in=600)
    too_late = make_run(due_in=7200)
    before = (timezone.now() + timedelta(hours=1)).isoformat()

    run_command(
        "cancel_scheduled_tasks", "--task-name", "do_something", "--before", before
    )

    assert status_of(match) == TaskStatus.CANCELED
    assert status_of(other_task) == status_of(too_late) == TaskStatus.SCHEDULED


def test_cancel_scheduled_tasks__dry_run_changes_nothing(db, redis_db):
    later = make_run(due_in=3600)
    queued = make_run()

    output = run_command("cancel_scheduled_tasks", "--dry-run")

    assert str(later.pk) in output and str(queued.pk) in output
    assert "Would cancel 2 task(s)" in output
    assert status_of(later) == TaskStatus.SCHEDULED
    assert status_of(queued) == TaskStatus.QUEUED
    assert not TaskEvent.objects.filter(kind=TaskEvent.Kind.CANCELED).exists()
    assert redis_db.zscore(SCHEDULE_KEY, str(later.pk)) is not None
    assert get_queue("default").count == 1


@pytest.mark.parametrize(
    "value", ["next tuesday", "2030-01-31T09:00:00", "2030-13-01T09:00Z"]
)
def test_cancel_scheduled_tasks__bad_before_is_refused(db, value):
    pending = make_run(due_in=3600)

    with pytest.raises(CommandError, match=f"--before.*{re.escape(value)}"):
        run_command("cancel_scheduled_tasks", "--before", value)

    assert status_of(pending) == TaskStatus.SCHEDULED


def test_cancel_scheduled_tasks__in_batches(db, redis_db):
    runs = [make_run(due_in=3600 + i) for i in range(5)]
    lost = make_run(due_in=3600)
    redis_db.delete(BacktickJob.key_for(str(lost.pk)))

    with CaptureQueriesContext(connection) as queries:
        output = run_command("cancel_scheduled_tasks", "--batch-size", "2")

    assert "canceled: 5" in output
    assert "not_found: 1" in output
    assert {status_of(run) for run in runs} == {TaskStatus.CANCELED}
    # The row whose job is gone stays pending and is neither retried nor looped over.
    assert status_of(lost) == TaskStatus.SCHEDULED
    row_lookups = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and '"scheduling_scheduledtask"."id" IN' in q["sql"]
    ]
    assert len(row_lookups) == 3


def test_cancel_scheduled_tasks__shows_progress_per_batch(db):
    for i in range(3):
        make_run(due_in=3600 + i)
    progress = StringIO()

    call_command(
        "cancel_scheduled_tasks",
        "--batch-size",
        "2",
        stdout=StringIO(),
        stderr=progress,
    )

    assert progress.getvalue().splitlines() == [
        "... 2 task(s) handled so far",
        "... 3 task(s) handled so far",
    ]


def test_cancel_scheduled_tasks__nothing_pending(db):
    output = run_command("cancel_scheduled_tasks")

    assert output.splitlines() == ["canceled: 0"]


def test_cancel_scheduled_tasks__redis_down_is_a_command_error(db):
    make_run(due_in=3600)
    unreachable = {
        name: {**queue, "URL": "redis://127.0.0.1:1/1"}
        for name, queue in settings.RQ_QUEUES.items()
    }

    with (
        override_settings(RQ_QUEUES=unreachable),
        pytest.raises(CommandError, match="Redis"),
    ):
        run_command("cancel_scheduled_tasks")


# --- cancel_running_tasks ------------------------------------------------------------


def test_cancel_running_tasks__stops_the_task_and_records_the_command(worker, redis_db):
    run = make_run(how_long=60)
    wait_for_status(run, TaskStatus.STARTED, worker)

    output = run_command("cancel_running_tasks")

    assert str(run.pk) in output
    assert "Asked to stop 1 running task(s)." in output
    wait_for_status(run, TaskStatus.STOPPED, worker)
    [requested] = events_by(run, "command:cancel_running_tasks")
    assert requested.kind == TaskEvent.Kind.STOPPED
    assert requested.interface == Interface.COMMAND
    assert requested.detail == "stop requested"
    [recorded] = TaskEvent.objects.filter(
        task=run, kind=TaskEvent.Kind.STOPPED, actor="system"
    )
    assert recorded.interface == Interface.WORKER
    assert requested.at <= recorded.at
    job = BacktickJob.fetch(str(run.pk), connection=redis_db)
    assert job.get_status() == "stopped"


def test_cancel_running_tasks__dry_run_stops_nothing(worker):
    run = make_run(how_long=60)
    wait_for_status(run, TaskStatus.STARTED, worker)

    output = run_command("cancel_running_tasks", "--dry-run")

    assert str(run.pk) in output
    assert "Would ask to stop 1 running task(s)." in output
    assert not TaskEvent.objects.filter(task=run, kind=TaskEvent.Kind.STOPPED).exists()
    assert worker_control.running_task_ids() == [str(run.pk)]


def test_cancel_running_tasks__leaves_tasks_that_are_not_running(db):
    queued = make_run()
    later = make_run(due_in=3600)

    output = run_command("cancel_running_tasks")

    assert output.splitlines() == ["Asked to stop 0 running task(s)."]
    assert status_of(queued) == TaskStatus.QUEUED
    assert status_of(later) == TaskStatus.SCHEDULED
    assert not TaskEvent.objects.filter(kind=TaskEvent.Kind.STOPPED).exists()


# --- stop_workers --------------------------------------------------------------------


def test_stop_workers__idle_worker_exits(worker):
    output = run_command("stop_workers")

    assert worker.name in output
    assert "Told 1 worker(s) to stop." in output
    assert worker.process.wait(timeout=PROCESS_TIMEOUT) == 0, worker.output()
    assert worker_control.worker_names() == []


def test_stop_workers__busy_worker_finishes_its_task_first(worker):
    current = make_run(how_long=2)
    waiting = make_run()
    wait_for_status(current, TaskStatus.STARTED, worker)

    run_command("stop_workers")

    assert worker.process.wait(timeout=PROCESS_TIMEOUT) == 0, worker.output()
    assert status_of(current) == TaskStatus.FINISHED
    assert status_of(waiting) == TaskStatus.QUEUED


def test_stop_workers__dry_run_tells_no_worker(worker):
    output = run_command("stop_workers", "--dry-run")

    assert worker.name in output
    assert "Would tell 1 worker(s) to stop." in output
    assert worker.process.poll() is None
    assert worker_control.worker_names() == [worker.name]


def test_stop_workers__no_worker_registered(db):
    output = run_command("stop_workers")

    assert output.splitlines() == ["Told 0 worker(s) to stop."]


# --- reconcile_tasks -----------------------------------------------------------------


@override_settings(BACKTICK_RECONCILE_GRACE=0)
def test_reconcile_tasks__prints_what_it_checked_and_changed(db, redis_db):
    lost = make_run()
    make_run(due_in=3600)
    redis_db.delete(BacktickJob.key_for(str(lost.pk)))

    output = run_command("reconcile_tasks")

    assert output.splitlines() == ["checked: 1", "changed: 1"]
    assert status_of(lost) == TaskStatus.FAILED
    [event] = TaskEvent.objects.filter(task=lost, kind=TaskEvent.Kind.FAILED)
    assert event.interface == Interface.COMMAND
