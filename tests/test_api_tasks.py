from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from scheduling.actors import Actor
from scheduling.models import Interface
from scheduling.services import cancel_tasks, schedule_task
from tests.helpers import in_seconds, iso

pytestmark = pytest.mark.django_db

ACTOR = Actor.system(Interface.COMMAND)


def make_runs(task_name="do_something", kwargs=None, moments=None):
    return schedule_task(
        task_name=task_name,
        kwargs={"how_long": 1} if kwargs is None else kwargs,
        run_times=moments,
        actor=ACTOR,
    )


def test_tasks__detail_is_the_audit_record(api_client):
    [run] = make_runs(moments=[in_seconds(60)])
    cancel_tasks(task_ids=[str(run.pk)], actor=ACTOR)

    response = api_client.get(f"/tasks/{run.pk}")

    assert response.status_code == 200
    body = response.json()
    for field in [
        "id",
        "task_name",
        "kwargs",
        "queue",
        "status",
        "scheduled_for",
        "created_at",
        "enqueued_at",
        "started_at",
        "ended_at",
        "attempts",
        "result",
        "error",
    ]:
        assert field in body
    assert body["status"] == "canceled"
    assert [event["kind"] for event in body["events"]] == ["canceled", "scheduled"]
    assert body["events"][0]["actor"] == "system"
    assert api_client.get(f"/tasks/{run.pk}/").status_code == 200


@pytest.mark.parametrize("task_id", ["nope", str(uuid.uuid4()), "1" * 300, "%00"])
def test_tasks__unknown_or_malformed_id_is_404(api_client, task_id):
    assert api_client.get(f"/tasks/{task_id}").status_code == 404


def test_tasks__list_filters_by_status_task_queue_and_time(api_client):
    soon, later = in_seconds(60), in_seconds(3600)
    make_runs(moments=[soon, later])
    make_runs(task_name="raise_exception", kwargs={})

    def ids(query):
        response = api_client.get("/tasks/", query)
        assert response.status_code == 200
        return response.json()["count"]

    assert ids({}) == 3
    assert ids({"status": "scheduled"}) == 2
    assert ids({"status": ["scheduled", "queued"]}) == 3
    assert ids({"task_name": "raise_exception"}) == 1
    assert ids({"queue": "another"}) == 0
    assert ids({"scheduled_after": iso(in_seconds(120))}) == 1
    assert (
        ids({"scheduled_before": iso(in_seconds(120)), "task_name": "do_something"})
        == 1
    )


def test_tasks__list_is_paginated(api_client, settings):
    make_runs(moments=[in_seconds(60 + i) for i in range(3)])
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 2}

    response = api_client.get("/tasks/")

    assert len(response.json()["results"]) in (2, 3)
    assert response.json()["count"] == 3


def test_tasks__bad_filter_is_400(api_client):
    assert api_client.get("/tasks/", {"status": "sleeping"}).status_code == 400
    assert (
        api_client.get("/tasks/", {"scheduled_after": "yesterday"}).status_code == 400
    )


def test_tasks__requires_authentication(db):
    assert APIClient().get("/tasks/").status_code == 401


def test_registered_tasks__lists_parameters_queue_and_retry(api_client):
    response = api_client.get("/registered-tasks/")

    assert response.status_code == 200
    tasks = {task["name"]: task for task in response.json()}
    assert tasks["do_something"]["parameters"] == [
        {"name": "how_long", "required": True, "annotation": "int", "default": None}
    ]
    assert tasks["raise_exception"]["retry"] == {"max": 3, "intervals": [2]}
    assert tasks["raise_exception_again"]["retry"] == {"max": 3, "intervals": [1, 2, 4]}
    assert tasks["raise_exception_again"]["queue"] == "another"
    make_request = {p["name"]: p for p in tasks["make_request"]["parameters"]}
    assert make_request["data"]["required"] is False
    assert make_request["url"]["annotation"] == "str"


def test_docs__swagger_ui_and_schema_are_served_offline(client):
    docs = client.get("/docs")
    schema = client.get("/schema/")

    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()
    assert schema.status_code == 200
    assert b"/schedule" in schema.content
    assert b"/unschedule" in schema.content


def test_health__reports_database_and_redis(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}


def test_health__is_503_when_redis_is_down(client, settings):
    settings.RQ_QUEUES = {
        name: {**config, "URL": "redis://127.0.0.1:1/15"}
        for name, config in settings.RQ_QUEUES.items()
    }

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["redis"] == "unreachable"


@pytest.mark.parametrize(
    "query",
    [
        {"scheduled_after": "2030-01-01T00:00:00"},
        {"scheduled_after": "0001-01-01T00:00:00+01:00"},
        {"scheduled_before": "9999-12-31T23:59:59-01:00"},
    ],
)
def test_tasks__filter_datetime_naive_or_out_of_range_is_400(api_client, query):
    response = api_client.get("/tasks/", query)

    assert response.status_code == 400
    assert list(response.json()) == list(query)
