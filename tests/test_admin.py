from __future__ import annotations

import pytest
from django.utils import timezone

from scheduling.actors import Actor
from scheduling.models import Interface, ScheduledTask
from scheduling.services import cancel_tasks, schedule_task
from tests.helpers import in_seconds

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/scheduling/scheduledtask/"
ACTOR = Actor.system(Interface.COMMAND)


@pytest.fixture
def runs():
    return schedule_task(
        task_name="do_something",
        kwargs={"how_long": 1},
        run_times=[in_seconds(60), in_seconds(120)],
        actor=ACTOR,
    )


def test_admin__changelist_filters_by_status_task_and_queue(admin_client, runs):
    cancel_tasks(task_ids=[str(runs[0].pk)], actor=ACTOR)

    everything = admin_client.get(CHANGELIST)
    canceled = admin_client.get(CHANGELIST, {"status__exact": "canceled"})
    by_task = admin_client.get(
        CHANGELIST, {"task_name": "do_something", "queue": "default"}
    )

    assert everything.status_code == 200
    assert everything.context["cl"].result_count == 2
    assert canceled.context["cl"].result_count == 1
    assert by_task.context["cl"].result_count == 2


@pytest.mark.parametrize("term", ["not-an-id", "'; drop table", "%", " "])
def test_admin__search_by_id_ignores_what_is_not_an_id(admin_client, runs, term):
    response = admin_client.get(CHANGELIST, {"q": term})

    assert response.status_code == 200
    assert response.context["cl"].result_count in (0, 2)


def test_admin__search_finds_a_task_by_its_id(admin_client, runs):
    response = admin_client.get(CHANGELIST, {"q": str(runs[1].pk).upper()})

    assert [row.pk for row in response.context["cl"].result_list] == [runs[1].pk]


def test_admin__change_view_is_read_only_with_the_history(admin_client, runs):
    cancel_tasks(task_ids=[str(runs[0].pk)], actor=ACTOR)
    url = f"{CHANGELIST}{runs[0].pk}/change/"

    page = admin_client.get(url)
    post = admin_client.post(url, {"status": "finished"})

    assert page.status_code == 200
    [events] = page.context["inline_admin_formsets"]
    assert [form.original.kind for form in events] == ["scheduled", "canceled"]
    assert post.status_code == 403


def test_admin__django_rq_pages_read_the_json_jobs(admin_client, runs):
    from django_rq.queues import get_queues_list

    index = next(i for i, q in enumerate(get_queues_list()) if q["name"] == "default")
    queued = schedule_task(
        task_name="do_something", kwargs={"how_long": 1}, run_times=None, actor=ACTOR
    )

    overview = admin_client.get("/admin/rq/")
    queue_page = admin_client.get(f"/admin/rq/queues/{index}/")
    job_page = admin_client.get(f"/admin/rq/queues/{index}/{queued[0].pk}/")

    assert overview.status_code == 200
    assert queue_page.status_code == 200
    assert str(queued[0].pk).encode() in queue_page.content
    assert job_page.status_code == 200
    assert b"how_long" in job_page.content


@pytest.mark.parametrize(
    ("kwargs_text", "fragment"),
    [
        ('{"how_long": 1, "x": "\\ud800"}', "not valid Unicode"),
        ('{"how_long": 1, "x": "\\u0000"}', "NUL character"),
        ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
        ('{"how_long": 1, "x": 1e999}', "out of range"),
        ('{"how_long": 1' + "0" * 5000 + "}", "Enter valid JSON"),
    ],
)
def test_admin__schedule_form_refuses_kwargs_that_cannot_be_stored(
    admin_client, redis_db, kwargs_text, fragment
):
    response = admin_client.post(
        f"{CHANGELIST}add/",
        {"task_name": "do_something", "kwargs": kwargs_text, "run_now": "on"},
    )

    assert response.status_code == 200
    assert fragment in " ".join(response.context["form"].errors["kwargs"])
    assert not ScheduledTask.objects.exists()


def test_admin__schedule_form_refuses_a_time_out_of_range(admin_client):
    response = admin_client.post(
        f"{CHANGELIST}add/",
        {
            "task_name": "do_something",
            "kwargs": '{"how_long": 1}',
            "run_times": "0001-01-01T00:00+01:00",
        },
    )

    assert response.status_code == 200
    assert "Out of the range" in " ".join(response.context["form"].errors["run_times"])
    assert not ScheduledTask.objects.exists()


def test_admin__forged_action_selection_is_an_error_message(admin_client, runs):
    response = admin_client.post(
        CHANGELIST,
        {"action": "cancel_selected", "_selected_action": ["not-a-uuid"], "index": "0"},
        follow=True,
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "The selection holds values that are not task ids."
    ]


def test_admin__change_view_shows_times_with_seconds_and_zone(admin_client, runs):
    page = admin_client.get(f"{CHANGELIST}{runs[0].pk}/change/")

    local = timezone.localtime(runs[0].scheduled_for).strftime("%Y-%m-%d %H:%M:%S")
    assert local in page.content.decode()
