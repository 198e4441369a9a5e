from __future__ import annotations

import uuid

import pytest

from scheduling.jobs import SCHEDULE_KEY, BacktickJob
from scheduling.models import ScheduledTask, TaskStatus
from scheduling.redis_keys import get_queue
from tests.helpers import in_seconds, iso

pytestmark = pytest.mark.django_db


def schedule(client, *, at=None, task_name="do_something", kwargs=None):
    body = {
        "task_name": task_name,
        "kwargs": {"how_long": 1} if kwargs is None else kwargs,
    }
    if at is not None:
        body["datetimes"] = [iso(at)]
    response = client.post("/schedule", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["task_ids"][0]


def unschedule(client, task_ids, path="/unschedule", **extra):
    return client.post(path, {"task_ids": task_ids, **extra}, format="json")


def keys_without_expiry(redis_db, task_id):
    """Every key naming the task that would stay in Redis for ever."""
    return [
        key for key in redis_db.scan_iter(f"*{task_id}*") if redis_db.ttl(key) == -1
    ]


def test_unschedule__scheduled_task_is_canceled_and_expires(api_client, redis_db):
    task_id = schedule(api_client, at=in_seconds(60))

    response = unschedule(api_client, [task_id])

    assert response.status_code == 200
    assert response.json() == {
        "task_ids": [task_id],
        "outcomes": {},
        "message": "Tasks unscheduled successfully",
    }
    assert redis_db.zscore(SCHEDULE_KEY, task_id) is None
    job_key = BacktickJob.key_for(task_id)
    assert redis_db.hget(job_key, "status") == b"canceled"
    assert 0 < redis_db.ttl(job_key) <= 24 * 3600
    assert keys_without_expiry(redis_db, task_id) == []
    row = ScheduledTask.objects.get(pk=task_id)
    assert row.status == TaskStatus.CANCELED
    assert row.ended_at is not None
    event = row.events.get(kind="canceled")
    assert (event.actor, event.interface) == ("alice", "api")


def test_unschedule__queued_task_leaves_its_queue(api_client, redis_db):
    task_id = schedule(api_client)
    assert get_queue("default").job_ids == [task_id]

    response = unschedule(api_client, [task_id], path="/unschedule/")

    assert response.json()["task_ids"] == [task_id]
    assert get_queue("default").job_ids == []
    assert keys_without_expiry(redis_db, task_id) == []


def test_unschedule__twice_reports_already_canceled(api_client):
    task_id = schedule(api_client, at=in_seconds(60))
    unschedule(api_client, [task_id])

    response = unschedule(api_client, [task_id])

    assert response.status_code == 200
    assert response.json()["task_ids"] == []
    assert response.json()["outcomes"] == {task_id: "already_canceled"}


@pytest.mark.parametrize(
    "given",
    [
        "nope",
        "",
        " ",
        "rq:job:x",
        str(uuid.uuid4()),
        "00000000-0000-0000-0000-00000000000g",
        "1" * 100,
    ],
)
def test_unschedule__unknown_or_malformed_ids_are_not_found(api_client, given):
    response = unschedule(api_client, [given])

    assert response.status_code == 200
    assert response.json()["outcomes"] == {given: "not_found"}


@pytest.mark.parametrize("suffix", [":x", ":dependents", "x", " "])
def test_unschedule__id_with_a_suffix_is_not_taken_for_the_id(
    api_client, redis_db, suffix
):
    task_id = schedule(api_client, at=in_seconds(60))

    response = unschedule(api_client, [task_id + suffix])

    assert response.json()["outcomes"] == {task_id + suffix: "not_found"}
    assert redis_db.zscore(SCHEDULE_KEY, task_id) is not None
    assert ScheduledTask.objects.get(pk=task_id).status == TaskStatus.SCHEDULED


def test_unschedule__mixed_ids_report_each_outcome(api_client, redis_db):
    canceled = schedule(api_client, at=in_seconds(60))
    finished = schedule(api_client, at=in_seconds(60))
    # As a worker leaves a job it ran: out of the schedule, status finished.
    redis_db.zrem(SCHEDULE_KEY, finished)
    redis_db.hset(BacktickJob.key_for(finished), "status", "finished")
    unknown = str(uuid.uuid4())

    response = unschedule(api_client, [canceled, finished, unknown])

    assert response.json()["task_ids"] == [canceled]
    assert response.json()["outcomes"] == {
        finished: "already_finished",
        unknown: "not_found",
    }
    assert response.json()["message"] == "1 of 3 tasks unscheduled"


def test_unschedule__finished_job_gone_from_redis_reports_the_row_status(
    api_client, redis_db
):
    task_id = schedule(api_client, at=in_seconds(60))
    redis_db.delete(BacktickJob.key_for(task_id))
    redis_db.zrem(SCHEDULE_KEY, task_id)
    ScheduledTask.objects.filter(pk=task_id).update(status=TaskStatus.FINISHED)

    response = unschedule(api_client, [task_id])

    assert response.json()["outcomes"] == {task_id: "already_finished"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"task_ids": []},
        {"task_ids": "abc"},
        {"task_ids": [None]},
        {"task_ids": [{"a": 1}]},
    ],
)
def test_unschedule__malformed_body_is_400(api_client, body):
    response = api_client.post("/unschedule", body, format="json")

    assert response.status_code == 400


def test_unschedule__requires_authentication(db, client):
    response = client.post(
        "/unschedule", {"task_ids": ["x"]}, content_type="application/json"
    )

    assert response.status_code == 401
