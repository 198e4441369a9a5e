from __future__ import annotations

import json
import zlib

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from scheduling.jobs import SCHEDULE_KEY, BacktickJob
from scheduling.models import ScheduledTask, TaskEvent, TaskStatus
from scheduling.redis_keys import get_queue
from tests.helpers import in_seconds, iso
from tests.sample_tasks import TEST_TASKS

pytestmark = pytest.mark.django_db


def schedule(client, body, path="/schedule"):
    return client.post(path, body, format="json")


def assert_nothing_scheduled(redis_db):
    assert ScheduledTask.objects.count() == 0
    assert redis_db.zcard(SCHEDULE_KEY) == 0
    assert get_queue("default").count == 0


def test_schedule__now_enqueues_one_run(api_client, user, redis_db):
    response = schedule(
        api_client,
        {"task_name": "do_something", "datetimes": [], "kwargs": {"how_long": 5}},
    )

    assert response.status_code == 200
    assert response.json()["message"] == "Tasks scheduled successfully"
    [task_id] = response.json()["task_ids"]
    assert get_queue("default").job_ids == [task_id]
    row = ScheduledTask.objects.get(pk=task_id)
    assert (row.status, row.task_name, row.kwargs, row.queue) == (
        TaskStatus.QUEUED,
        "do_something",
        {"how_long": 5},
        "default",
    )
    assert row.created_by == user
    event = row.events.get()
    assert (event.kind, event.actor, event.interface) == ("enqueued", "alice", "api")


def test_schedule__missing_datetimes_runs_now(api_client):
    response = schedule(
        api_client, {"task_name": "do_something", "kwargs": {"how_long": 1}}
    )

    assert response.status_code == 200
    assert ScheduledTask.objects.get().status == TaskStatus.QUEUED


def test_schedule__future_datetimes_keep_fractions_in_the_schedule(
    api_client, redis_db
):
    first, second = in_seconds(60.25), in_seconds(120.75)

    response = schedule(
        api_client,
        {
            "task_name": "do_something",
            "datetimes": [iso(first), iso(second)],
            "kwargs": {"how_long": 1},
        },
    )

    assert response.status_code == 200
    ids = response.json()["task_ids"]
    assert len(ids) == 2
    scores = [redis_db.zscore(SCHEDULE_KEY, task_id) for task_id in ids]
    assert scores == pytest.approx([first.timestamp(), second.timestamp()], abs=1e-3)
    assert get_queue("default").count == 0
    rows = ScheduledTask.objects.in_bulk(ids)
    assert {row.status for row in rows.values()} == {TaskStatus.SCHEDULED}
    assert rows[next(iter(rows))].events.get().kind == TaskEvent.Kind.SCHEDULED


def test_schedule__offsets_are_converted_to_utc(api_client):
    moment = in_seconds(3600).replace(microsecond=0)
    local = moment.astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Kolkata")
    ).isoformat()
    assert local.endswith("+05:30")

    response = schedule(
        api_client,
        {"task_name": "do_something", "datetimes": [local], "kwargs": {"how_long": 1}},
    )

    assert response.status_code == 200
    assert ScheduledTask.objects.get().scheduled_for == moment


def test_schedule__job_carries_the_task_options_and_json_data(api_client, redis_db):
    response = schedule(
        api_client,
        {
            "task_name": "raise_exception",
            "datetimes": [iso(in_seconds(60))],
            "kwargs": {},
        },
    )

    [task_id] = response.json()["task_ids"]
    job = BacktickJob.fetch(task_id, connection=redis_db)
    assert job.retries_left == 3
    assert job.retry_intervals == [2]
    assert job.timeout == 60
    assert job.result_ttl == 600
    assert job.origin == "default"
    assert job.func_name == "tasks.examples.raise_exception"
    # The job's payload is plain JSON: nothing needs unpickling.
    assert json.loads(
        zlib.decompress(redis_db.hget(BacktickJob.key_for(task_id), "data"))
    ) == [
        "tasks.examples.raise_exception",
        None,
        [],
        {},
    ]


@pytest.mark.parametrize("path", ["/schedule", "/schedule/"])
def test_schedule__both_slash_forms(api_client, path):
    response = schedule(
        api_client, {"task_name": "do_something", "kwargs": {"how_long": 1}}, path
    )

    assert response.status_code == 200


def test_schedule__requires_authentication(db, redis_db):
    response = schedule(
        APIClient(), {"task_name": "do_something", "kwargs": {"how_long": 1}}
    )

    assert response.status_code == 401
    assert_nothing_scheduled(redis_db)


def test_schedule__session_authentication_works(client, user):
    client.force_login(user)

    response = client.post(
        "/schedule",
        {"task_name": "do_something", "kwargs": {"how_long": 1}},
        content_type="application/json",
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("datetimes", "index", "fragment"),
    [
        (["2030-01-01T10:00:00"], "0", "no UTC offset"),
        (["not a date"], "0", "Not an ISO-8601 datetime"),
        ([12], "0", "Not an ISO-8601 datetime"),
        ([iso(in_seconds(60)), "2001-01-01T00:00:00Z"], "1", "in the past"),
        ([iso(in_seconds(31 * 24 * 3600))], "0", "further ahead"),
    ],
)
def test_schedule__bad_datetime_is_400_naming_the_item(
    api_client, redis_db, datetimes, index, fragment
):
    response = schedule(
        api_client,
        {
            "task_name": "do_something",
            "datetimes": datetimes,
            "kwargs": {"how_long": 1},
        },
    )

    assert response.status_code == 400
    assert fragment in response.json()["datetimes"][index][0]
    assert_nothing_scheduled(redis_db)


@override_settings(BACKTICK_MAX_DATETIMES=2)
def test_schedule__too_many_datetimes_is_400(api_client, redis_db):
    datetimes = [iso(in_seconds(60 + i)) for i in range(3)]

    response = schedule(
        api_client,
        {
            "task_name": "do_something",
            "datetimes": datetimes,
            "kwargs": {"how_long": 1},
        },
    )

    assert response.status_code == 400
    assert "At most 2 datetimes" in response.json()["datetimes"][0]
    assert_nothing_scheduled(redis_db)


@override_settings(BACKTICK_MAX_SCHEDULE_AHEAD=3600)
def test_schedule__horizon_is_read_from_settings(api_client, redis_db):
    response = schedule(
        api_client,
        {
            "task_name": "do_something",
            "datetimes": [iso(in_seconds(7200))],
            "kwargs": {"how_long": 1},
        },
    )

    assert response.status_code == 400
    assert "3600 seconds" in response.json()["datetimes"]["0"][0]


@pytest.mark.parametrize(
    "task_name", ["nope", "tasks.examples.do_something", "os.system", "", "__import__"]
)
def test_schedule__unknown_task_is_400_without_paths(api_client, redis_db, task_name):
    response = schedule(api_client, {"task_name": task_name, "kwargs": {}})

    assert response.status_code == 400
    assert "task_name" in response.json()
    assert_nothing_scheduled(redis_db)


def test_schedule__unknown_task_error_reveals_no_registered_path(api_client):
    response = schedule(api_client, {"task_name": "nope", "kwargs": {}})

    assert response.status_code == 400
    assert "tasks.examples" not in json.dumps(response.json())


@override_settings(BACKTICK_TASKS={"typed": "tests.sample_tasks.typed"})
@pytest.mark.parametrize(
    ("kwargs", "parameter", "fragment"),
    [
        ({}, "count", "required"),
        ({"count": 1, "colour": "red"}, "colour", "Unknown parameter"),
        ({"count": "1"}, "count", "an integer"),
        ({"count": True}, "count", "an integer"),
        ({"count": 1.5}, "count", "an integer"),
        ({"count": 1, "ratio": "x"}, "ratio", "a number"),
        ({"count": 1, "ratio": False}, "ratio", "a number"),
        ({"count": 1, "label": 3}, "label", "a string"),
        ({"count": 1, "flag": 0}, "flag", "a boolean"),
        ({"count": 1, "extra": []}, "extra", "an object or null"),
    ],
)
def test_schedule__kwargs_are_checked_against_the_signature(
    api_client, redis_db, kwargs, parameter, fragment
):
    response = schedule(api_client, {"task_name": "typed", "kwargs": kwargs})

    assert response.status_code == 400
    assert fragment in response.json()["kwargs"][parameter][0]
    assert_nothing_scheduled(redis_db)


@override_settings(BACKTICK_TASKS={"typed": "tests.sample_tasks.typed"})
def test_schedule__valid_typed_kwargs_are_accepted(api_client):
    kwargs = {"count": 2, "ratio": 3, "label": "x", "flag": True, "extra": None}

    response = schedule(api_client, {"task_name": "typed", "kwargs": kwargs})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"kwargs": {}},
        {"task_name": "do_something", "kwargs": [1]},
        {
            "task_name": "do_something",
            "kwargs": {"how_long": 1},
            "datetimes": "2030-01-01T00:00:00Z",
        },
        {"task_name": ["do_something"], "kwargs": {}},
    ],
)
def test_schedule__malformed_body_is_400(api_client, redis_db, body):
    response = schedule(api_client, body)

    assert response.status_code == 400
    assert_nothing_scheduled(redis_db)


def test_schedule__non_json_body_is_400(api_client, redis_db):
    response = api_client.post(
        "/schedule", "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert_nothing_scheduled(redis_db)


def test_schedule__redis_down_is_503_and_leaves_no_pending_row(api_client, settings):
    settings.RQ_QUEUES = {
        name: {**config, "URL": "redis://127.0.0.1:1/15"}
        for name, config in settings.RQ_QUEUES.items()
    }

    response = schedule(
        api_client, {"task_name": "do_something", "kwargs": {"how_long": 1}}
    )

    assert response.status_code == 503
    assert "Redis" in response.json()["detail"]
    row = ScheduledTask.objects.get()
    assert row.status == TaskStatus.FAILED
    assert "Redis" in row.error


def raw_post(client, body: str, path="/schedule"):
    return client.post(path, body, content_type="application/json")


@override_settings(BACKTICK_TASKS=TEST_TASKS)
@pytest.mark.parametrize(
    ("kwargs_json", "fragment"),
    [
        ('{"count": 1, "label": "\\ud800"}', "not valid Unicode"),
        ('{"count": 1, "\\ud800": 1}', "not valid Unicode"),
        ('{"count": 1, "label": "a\\u0000b"}', "NUL character"),
        ('{"count": 1, "extra": {"a": 1e999}}', "out of range"),
        ('{"count": 1, "extra": {"a": -1e999}}', "out of range"),
        (
            '{"count": 1, "extra": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}",
            "deeper than 32",
        ),
    ],
)
def test_schedule__kwargs_that_cannot_be_stored_are_400(
    api_client, redis_db, kwargs_json, fragment
):
    response = raw_post(
        api_client, '{"task_name": "typed", "kwargs": ' + kwargs_json + "}"
    )

    assert response.status_code == 400
    assert fragment in response.json()["kwargs"][0]
    assert_nothing_scheduled(redis_db)


@override_settings(BACKTICK_TASKS=TEST_TASKS, BACKTICK_MAX_KWARGS_CHARS=1000)
def test_schedule__kwargs_over_the_size_limit_are_400(api_client, redis_db):
    body = {"task_name": "typed", "kwargs": {"count": 1, "label": "x" * 2000}}

    response = schedule(api_client, body)

    assert response.status_code == 400
    assert "at most 1,000 are accepted" in response.json()["kwargs"][0]
    assert_nothing_scheduled(redis_db)


def test_schedule__body_nested_beyond_the_parser_is_400(api_client, redis_db):
    deep = "[" * 100_000 + "]" * 100_000

    response = raw_post(
        api_client, '{"task_name": "do_something", "kwargs": ' + deep + "}"
    )

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert_nothing_scheduled(redis_db)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_schedule__body_over_the_upload_limit_is_413(api_client, redis_db):
    body = {"task_name": "do_something", "kwargs": {"how_long": 1, "x": "y" * 20_000}}

    response = schedule(api_client, body)

    assert response.status_code == 413
    assert_nothing_scheduled(redis_db)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:30:00+00:31",
    ],
)
def test_schedule__datetime_out_of_range_is_400(api_client, redis_db, value):
    response = schedule(
        api_client,
        {"task_name": "do_something", "datetimes": [value], "kwargs": {"how_long": 1}},
    )

    assert response.status_code == 400
    assert "out of the range" in response.json()["datetimes"]["0"][0]
    assert_nothing_scheduled(redis_db)
