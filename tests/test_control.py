"""Control actions on existing runs, over the API and the commands, through one service."""

from __future__ import annotations

import uuid
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from scheduling.actors import Actor
from scheduling.jobs import SCHEDULE_KEY, BacktickJob
from scheduling.models import Interface, ScheduledTask, TaskStatus
from scheduling.redis_keys import get_queue
from scheduling.services import (
    cancel_tasks,
    requeue_tasks,
    reschedule_tasks,
    run_tasks_now,
    schedule_task,
)
from tests.helpers import in_seconds, iso, wait_until
from tests.processes import PROCESS_TIMEOUT

ACTOR = Actor.system(Interface.COMMAND)


def scheduled(count=1, *, due_in=3600, task_name="do_something", kwargs=None):
    return schedule_task(
        task_name=task_name,
        kwargs={"how_long": 1} if kwargs is None else kwargs,
        run_times=[in_seconds(due_in + i) for i in range(count)],
        actor=ACTOR,
    )


def ended(status=TaskStatus.FAILED):
    [run] = scheduled()
    cancel_tasks(task_ids=[str(run.pk)], actor=ACTOR)
    ScheduledTask.objects.filter(pk=run.pk).update(status=status)
    return run


def post(client, task_id, action, body=None):
    return client.post(f"/tasks/{task_id}/{action}", body or {}, format="json")


# --- run now -------------------------------------------------------------------------


@pytest.mark.django_db
def test_run_now__moves_the_run_to_its_queue_keeping_its_id(api_client, redis_db):
    [run] = scheduled()

    response = post(api_client, run.pk, "run-now")

    assert response.status_code == 200
    assert response.json()["id"] == str(run.pk)
    assert response.json()["status"] == "queued"
    # Brought forward: the run is now due when it was sent to its queue.
    assert response.json()["scheduled_for"] == response.json()["enqueued_at"]
    assert get_queue("default").job_ids == [str(run.pk)]
    assert redis_db.zscore(SCHEDULE_KEY, str(run.pk)) is None
    event = response.json()["events"][0]
    assert (event["kind"], event["actor"], event["interface"]) == (
        "enqueued",
        "alice",
        "api",
    )


@pytest.mark.django_db
def test_run_now__not_scheduled_is_409_with_the_reason(api_client):
    run = ended(TaskStatus.FINISHED)

    response = post(api_client, run.pk, "run-now")

    assert response.status_code == 409
    assert response.json()["reason"] == "finished"
    assert "only scheduled tasks" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("task_id", [str(uuid.uuid4()), "nope"])
def test_actions__unknown_task_is_404(api_client, task_id):
    for action in ["cancel", "run-now", "requeue", "stop"]:
        assert post(api_client, task_id, action).status_code == 404
    body = {"datetime": iso(in_seconds(60))}
    assert post(api_client, task_id, "reschedule", body).status_code == 404


@pytest.mark.django_db
def test_run_now__job_gone_from_redis_is_reported(redis_db):
    [run] = scheduled()
    redis_db.delete(BacktickJob.key_for(str(run.pk)))

    report = run_tasks_now(task_ids=[str(run.pk)], actor=ACTOR)

    assert report.skipped == {str(run.pk): "missing_in_redis"}
    assert "no longer in Redis" in report.explain(str(run.pk))


@pytest.mark.django_db
def test_run_task_now_command(redis_db):
    [run] = scheduled()
    out = StringIO()

    call_command("run_task_now", str(run.pk), stdout=out)

    assert "queued to run now" in out.getvalue()
    assert ScheduledTask.objects.get(pk=run.pk).status == TaskStatus.QUEUED
    event = ScheduledTask.objects.get(pk=run.pk).events.first()
    assert (event.actor, event.interface) == ("command:run_task_now", "command")
    with pytest.raises(CommandError, match="only scheduled tasks"):
        call_command("run_task_now", str(run.pk))


# --- reschedule ----------------------------------------------------------------------


@pytest.mark.django_db
def test_reschedule__scheduled_run_gets_its_new_time(api_client, redis_db):
    [run] = scheduled()
    new_time = in_seconds(120.5)

    response = post(api_client, run.pk, "reschedule/", {"datetime": iso(new_time)})

    assert response.status_code == 200
    assert response.json()["scheduled_for"] == iso(new_time).replace("+00:00", "Z")
    assert redis_db.zscore(SCHEDULE_KEY, str(run.pk)) == pytest.approx(
        new_time.timestamp(), abs=1e-3
    )
    event = response.json()["events"][0]
    assert (event["kind"], event["actor"]) == ("rescheduled", "alice")


@pytest.mark.django_db
def test_reschedule__queued_run_goes_back_to_the_schedule(redis_db):
    [run] = schedule_task(
        task_name="do_something", kwargs={"how_long": 1}, run_times=None, actor=ACTOR
    )

    report = reschedule_tasks(
        task_ids=[str(run.pk)], run_at=in_seconds(60), actor=ACTOR
    )

    assert report.done == {str(run.pk): ""}
    assert get_queue("default").count == 0
    assert redis_db.zscore(SCHEDULE_KEY, str(run.pk)) is not None
    assert ScheduledTask.objects.get(pk=run.pk).status == TaskStatus.SCHEDULED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2001-01-01T00:00:00Z", "in the past"),
        ("2030-01-01T00:00:00", "no UTC offset"),
        ("soon", "Not an ISO-8601"),
        (iso(in_seconds(40 * 24 * 3600)), "further ahead"),
    ],
)
def test_reschedule__bad_time_is_400_and_changes_nothing(
    api_client, redis_db, value, fragment
):
    [run] = scheduled()
    before = redis_db.zscore(SCHEDULE_KEY, str(run.pk))

    response = post(api_client, run.pk, "reschedule", {"datetime": value})

    assert response.status_code == 400
    assert fragment in response.json()["datetime"][0]
    assert redis_db.zscore(SCHEDULE_KEY, str(run.pk)) == before


@pytest.mark.django_db
def test_reschedule__canceled_run_is_409(api_client):
    [run] = scheduled()
    cancel_tasks(task_ids=[str(run.pk)], actor=ACTOR)

    response = post(api_client, run.pk, "reschedule", {"datetime": iso(in_seconds(60))})

    assert response.status_code == 409
    assert response.json()["reason"] == "canceled"


@pytest.mark.django_db
def test_reschedule_task_command(redis_db):
    [run] = scheduled()
    new_time = in_seconds(7200).replace(microsecond=0)
    local = new_time.astimezone(ZoneInfo("Asia/Kolkata")).isoformat()
    out = StringIO()

    call_command("reschedule_task", str(run.pk), local, stdout=out)

    assert ScheduledTask.objects.get(pk=run.pk).scheduled_for == new_time
    assert redis_db.zscore(SCHEDULE_KEY, str(run.pk)) == new_time.timestamp()
    assert "is now due" in out.getvalue()
    with pytest.raises(CommandError, match="in the past"):
        call_command("reschedule_task", str(run.pk), "2001-01-01T00:00:00Z")
    with pytest.raises(CommandError, match="UTC offset"):
        call_command("reschedule_task", str(run.pk), "2031-01-01T00:00:00")
    with pytest.raises(CommandError, match="No task has the id"):
        call_command("reschedule_task", str(uuid.uuid4()), local)


# --- requeue -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["failed", "canceled", "stopped", "finished"])
def test_requeue__ended_run_runs_again_as_a_linked_new_run(api_client, status):
    run = ended(status)

    response = post(api_client, run.pk, "requeue")

    assert response.status_code == 201
    body = response.json()
    assert body["id"] != str(run.pk)
    assert body["requeued_from"] == str(run.pk)
    assert (body["status"], body["task_name"], body["kwargs"]) == (
        "queued",
        "do_something",
        {"how_long": 1},
    )
    assert get_queue("default").job_ids == [body["id"]]
    original = api_client.get(f"/tasks/{run.pk}").json()
    assert original["requeues"] == [body["id"]]
    assert original["events"][0]["kind"] == "requeued"
    assert original["events"][0]["detail"] == f"as {body['id']}"


@pytest.mark.django_db
def test_requeue__pending_run_is_409(api_client):
    [run] = scheduled()

    response = post(api_client, run.pk, "requeue")

    assert response.status_code == 409
    assert response.json()["reason"] == "scheduled"


@pytest.mark.django_db
def test_requeue__task_no_longer_registered_is_skipped(settings):
    run = ended()
    settings.BACKTICK_TASKS = {}

    report = requeue_tasks(task_ids=[str(run.pk)], actor=ACTOR)

    assert report.skipped == {str(run.pk): "unknown_task"}
    assert ScheduledTask.objects.count() == 1


@pytest.mark.django_db
def test_requeue_tasks_command__by_filters_with_progress():
    failed = [ended() for _ in range(3)]
    ended(TaskStatus.FINISHED)
    out, err = StringIO(), StringIO()

    call_command(
        "requeue_tasks",
        "--status",
        "failed",
        "--batch-size",
        "2",
        stdout=out,
        stderr=err,
    )

    assert "requeued: 3" in out.getvalue()
    assert "... 2 requeued so far" in err.getvalue()
    assert "... 3 requeued so far" in err.getvalue()
    requeued = ScheduledTask.objects.filter(requeued_from__isnull=False)
    assert {run.requeued_from_id for run in requeued} == {run.pk for run in failed}
    assert {run.created_via for run in requeued} == {"command"}


@pytest.mark.django_db
def test_requeue_tasks_command__dry_run_and_ids():
    run = ended()
    out = StringIO()

    call_command("requeue_tasks", "--status", "failed", "--dry-run", stdout=out)
    assert "Would requeue 1 task(s)" in out.getvalue()
    assert ScheduledTask.objects.count() == 1

    call_command("requeue_tasks", str(run.pk), "nope", stdout=out)
    assert "requeued: 1" in out.getvalue()
    assert "skipped (not_found): 1" in out.getvalue()


@pytest.mark.django_db
def test_requeue_tasks_command__needs_ids_or_filters():
    with pytest.raises(CommandError, match="either task ids or filters"):
        call_command("requeue_tasks")
    with pytest.raises(CommandError, match="either task ids or filters"):
        call_command("requeue_tasks", str(uuid.uuid4()), "--status", "failed")


# --- cancel --------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancel__one_task_answers_its_record(api_client):
    [run] = scheduled()

    response = post(api_client, run.pk, "cancel")
    again = post(api_client, run.pk, "cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert again.status_code == 409
    assert again.json()["reason"] == "canceled"


# --- stop ----------------------------------------------------------------------------


def test_stop__running_task_is_stopped_by_the_worker(worker, api_client):
    [run] = schedule_task(
        task_name="do_something", kwargs={"how_long": 60}, run_times=None, actor=ACTOR
    )
    wait_until(
        lambda: ScheduledTask.objects.get(pk=run.pk).status == TaskStatus.STARTED,
        timeout=PROCESS_TIMEOUT,
        what="the task to start",
    )

    response = post(api_client, run.pk, "stop")

    assert response.status_code == 200
    wait_until(
        lambda: ScheduledTask.objects.get(pk=run.pk).status == TaskStatus.STOPPED,
        timeout=PROCESS_TIMEOUT,
        what="the worker to stop the task",
    )
    events = list(ScheduledTask.objects.get(pk=run.pk).events.order_by("at", "id"))
    requested = next(e for e in events if e.detail == "stop requested")
    assert (requested.actor, requested.interface) == ("alice", "api")
    assert events[-1].kind == "stopped"


@pytest.mark.django_db
def test_stop__task_not_running_is_409(api_client):
    [run] = scheduled()

    response = post(api_client, run.pk, "stop")

    assert response.status_code == 409
    assert response.json()["reason"] == "scheduled"
