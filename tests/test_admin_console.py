"""The admin as the operations console: real admin POSTs against real Redis and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scheduling.actors import Actor
from scheduling.jobs import SCHEDULE_KEY, BacktickJob
from scheduling.models import Interface, ScheduledTask, TaskEvent, TaskStatus
from scheduling.redis_keys import get_queue
from scheduling.scheduler import BacktickScheduler
from scheduling.services import schedule_task
from tests.factories import make_run
from tests.helpers import in_seconds, wait_until
from tests.processes import PROCESS_TIMEOUT

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/scheduling/scheduledtask/"
ADD = f"{CHANGELIST}add/"
OPERATIONS = f"{CHANGELIST}operations/"
CREATOR = Actor.command("tests")
ACTIONS = {
    "cancel_selected": "cancel_scheduledtask",
    "run_now_selected": "run_now_scheduledtask",
    "reschedule_selected": "reschedule_scheduledtask",
    "requeue_selected": "requeue_scheduledtask",
    "stop_selected": "stop_scheduledtask",
}


# --- helpers -------------------------------------------------------------------------


def make_staff(client, *codenames: str):
    """A logged-in staff user with the view permission and ``codenames`` of scheduling."""
    user = get_user_model().objects.create_user(
        f"staff-{uuid.uuid4().hex[:8]}", password="pw", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="scheduling",
            codename__in=["view_scheduledtask", *codenames],
        )
    )
    client.force_login(user)
    return user


def set_status(run: ScheduledTask, status: str) -> None:
    ScheduledTask.objects.filter(pk=run.pk).update(
        status=status, ended_at=timezone.now()
    )


def status_of(run: ScheduledTask) -> str:
    return ScheduledTask.objects.values_list("status", flat=True).get(pk=run.pk)


def post_action(client, action: str, runs, **extra):
    return client.post(
        CHANGELIST,
        {
            "action": action,
            "_selected_action": [str(run.pk) for run in runs],
            "index": "0",
            **extra,
        },
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def local_input(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def action_names(response) -> list[str]:
    form = response.context["action_form"]
    return [name for name, _ in form.fields["action"].choices] if form else []


# --- schedule from the admin ---------------------------------------------------------


def test_schedule_form__lists_registered_tasks_with_parameters(admin_client, settings):
    settings.TIME_ZONE = "Asia/Kolkata"

    page = admin_client.get(ADD)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="bt-schedule-form"' in html
    assert "do_something(how_long: int)" in html
    assert "make_request(url: str, data: dict | None = null)" in html
    assert 'id="bt-task-make_request"' in html
    assert "Asia/Kolkata" in html


def test_schedule_form__schedules_runs_at_local_times(admin_client, root, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    first = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    second = first + timedelta(days=1)

    response = admin_client.post(
        ADD,
        {
            "task_name": "do_something",
            "kwargs": '{"how_long": 3}',
            "run_times": f"{local_input(first)}\n\n{local_input(second)}\n",
        },
        follow=True,
    )

    assert response.redirect_chain == [(CHANGELIST, 302)]
    runs = list(ScheduledTask.objects.order_by("scheduled_for"))
    assert [run.scheduled_for for run in runs] == [first, second]
    assert {run.kwargs["how_long"] for run in runs} == {3}
    [message] = messages_of(response)
    assert message.startswith("Scheduled 2 runs of do_something: ")
    assert all(str(run.pk) in message for run in runs)
    redis = get_queue("default").connection
    for run in runs:
        assert redis.zscore(SCHEDULE_KEY, str(run.pk)) == run.scheduled_for.timestamp()
        assert run.created_by == root
        assert run.created_via == Interface.ADMIN
        [event] = run.events.all()
        assert (event.actor, event.interface) == ("root", Interface.ADMIN)


def test_schedule_form__offset_in_the_time_wins_over_the_time_zone(
    admin_client, settings
):
    settings.TIME_ZONE = "Europe/Paris"
    due = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)

    admin_client.post(
        ADD,
        {
            "task_name": "do_something",
            "kwargs": '{"how_long": 1}',
            "run_times": due.astimezone(UTC).isoformat(),
        },
    )

    assert ScheduledTask.objects.get().scheduled_for == due


def test_schedule_form__runs_now(admin_client):
    response = admin_client.post(
        ADD,
        {"task_name": "do_something", "kwargs": '{"how_long": 1}', "run_now": "on"},
        follow=True,
    )

    run = ScheduledTask.objects.get()
    assert run.status == TaskStatus.QUEUED
    assert str(run.pk) in get_queue("default").get_job_ids()
    assert messages_of(response) == [f"Scheduled 1 run of do_something: {run.pk}."]


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"kwargs": '{"how_long": 1'}, "kwargs", "Enter valid JSON"),
        ({"kwargs": "[1, 2]"}, "kwargs", "Enter a JSON object"),
        ({"kwargs": '{"how_long": "5"}'}, "kwargs", "how_long: Expected an integer."),
        ({"kwargs": "{}"}, "kwargs", "how_long: This parameter is required."),
        (
            {"kwargs": '{"how_long": 1, "speed": 2}'},
            "kwargs",
            "speed: Unknown parameter; the task accepts: how_long.",
        ),
        ({"run_times": "tomorrow at noon"}, "run_times", "Line 1 (tomorrow at noon)"),
        ({"run_times": "2001-01-01 10:00"}, "run_times", "is in the past."),
        ({"run_times": "2999-01-01 10:00"}, "run_times", "further ahead than"),
        ({"run_times": ""}, "run_times", "Enter at least one run time"),
        ({"run_now": "on"}, "run_times", "Leave the run times empty to run now."),
        (
            {"run_times": "2030-03-31 02:30"},
            "run_times",
            "couldn’t be interpreted in time zone Europe/Paris",
        ),
        ({"task_name": "os.system"}, "task_name", "Select a valid choice."),
    ],
    ids=[
        "bad_json",
        "not_an_object",
        "wrong_type",
        "missing_parameter",
        "unknown_parameter",
        "not_a_time",
        "past",
        "beyond_horizon",
        "no_time",
        "time_and_run_now",
        "time_skipped_by_dst",
        "unknown_task",
    ],
)
def test_schedule_form__refuses_and_schedules_nothing(
    admin_client, redis_db, settings, data, field, error
):
    settings.TIME_ZONE = "Europe/Paris"
    valid = {
        "task_name": "do_something",
        "kwargs": '{"how_long": 1}',
        "run_times": local_input(in_seconds(3600)),
    }

    response = admin_client.post(ADD, {**valid, **data})

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(error in message for message in errors), errors
    assert f'id="bt-errors-{field}"' in response.content.decode()
    assert not ScheduledTask.objects.exists()
    assert redis_db.zcard(SCHEDULE_KEY) == 0
    assert get_queue("default").count == 0


def test_schedule_form__needs_the_add_permission(client):
    make_staff(client)

    changelist = client.get(CHANGELIST)
    form = client.get(ADD)
    post = client.post(ADD, {"task_name": "do_something", "run_now": "on"})

    assert (
        'href="/admin/scheduling/scheduledtask/add/"' not in changelist.content.decode()
    )
    assert form.status_code == post.status_code == 403
    assert not ScheduledTask.objects.exists()


def test_schedule_form__with_the_add_permission(client):
    user = make_staff(client, "add_scheduledtask")

    client.post(
        ADD, {"task_name": "do_something", "kwargs": '{"how_long": 0}', "run_now": "on"}
    )

    assert ScheduledTask.objects.get().created_by == user


# --- the changelist ------------------------------------------------------------------


def test_changelist__shows_badges_times_and_creator(admin_client, root):
    run = make_run(due_in=3600)
    ScheduledTask.objects.filter(pk=run.pk).update(created_by=root)

    html = admin_client.get(CHANGELIST).content.decode()

    assert 'class="bt-badge bt-status-scheduled"' in html
    assert f'datetime="{run.scheduled_for.isoformat()}"' in html
    assert "59\xa0minutes from now" in html
    assert ">root<" in html


def test_changelist__filters_by_creator_task_queue_and_date(admin_client, root):
    mine, theirs = make_run(due_in=3600), make_run(due_in=86400 * 3)
    ScheduledTask.objects.filter(pk=mine.pk).update(created_by=root)
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)

    def ids(**params):
        response = admin_client.get(CHANGELIST, params)
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert ids(creator=str(root.pk)) == {mine.pk}
    assert ids(creator="none") == {theirs.pk}
    assert ids(task_name="do_something", queue="default") == {mine.pk, theirs.pk}
    assert ids(queue="another") == set()
    assert ids(created_via="command") == {mine.pk, theirs.pk}
    assert ids(
        scheduled_for__gte=str(midnight - timedelta(days=1)),
        scheduled_for__lt=str(midnight + timedelta(days=2)),
    ) == {mine.pk}


def test_changelist__search_matches_an_id_or_a_task_name(admin_client):
    run = make_run(due_in=3600)
    [other] = schedule_task(
        task_name="raise_exception",
        kwargs={},
        run_times=[in_seconds(60)],
        actor=CREATOR,
    )

    def ids(term):
        response = admin_client.get(CHANGELIST, {"q": term})
        return {row.pk for row in response.context["cl"].result_list}

    assert ids(str(other.pk).upper()) == {other.pk}
    assert ids("SOMETHING") == {run.pk}
    assert ids("raise_") == {other.pk}
    assert ids(str(uuid.uuid4())) == set()


def make_rows(count: int, *, user=None) -> None:
    """``count`` audit rows of every status, without Redis jobs."""
    statuses = list(TaskStatus.values)
    now = timezone.now()
    ScheduledTask.objects.bulk_create(
        ScheduledTask(
            id=uuid.uuid4(),
            task_name="do_something",
            kwargs={"how_long": 1},
            queue="default",
            status=statuses[index % len(statuses)],
            scheduled_for=now + timedelta(minutes=index),
            created_by=user,
            created_via=Interface.API,
        )
        for index in range(count)
    )


@pytest.mark.parametrize(
    "params",
    [{}, {"status__exact": "scheduled"}, {"task_name": "do_something"}, {"q": "do"}],
    ids=["default", "status", "task", "search"],
)
def test_changelist__query_count_does_not_grow_with_rows(admin_client, root, params):
    make_rows(5, user=root)
    admin_client.get(CHANGELIST, params)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        admin_client.get(CHANGELIST, params)

    make_rows(150, user=root)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(CHANGELIST, params)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) > 5
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- the change view -----------------------------------------------------------------


def test_change_view__pretty_prints_and_escapes_kwargs_result_and_error(admin_client):
    [run] = schedule_task(
        task_name="make_request",
        kwargs={"url": "http://x/<script>", "data": {"b": 1, "a": [1, 2]}},
        run_times=[in_seconds(60)],
        actor=CREATOR,
    )
    ScheduledTask.objects.filter(pk=run.pk).update(
        result={"status_code": 200},
        error="Traceback (most recent call last):\n  <frame>\nValueError: <boom>",
    )

    html = admin_client.get(f"{CHANGELIST}{run.pk}/change/").content.decode()

    assert "http://x/&lt;script&gt;" in html
    assert "&quot;a&quot;: [\n      1,\n      2\n    ],\n    &quot;b&quot;: 1" in html
    assert '<pre class="bt-json">{\n  &quot;status_code&quot;: 200\n}</pre>' in html
    assert (
        '<details class="bt-error"><summary>ValueError: &lt;boom&gt;</summary>' in html
    )
    assert "  &lt;frame&gt;" in html


def test_change_view__history_shows_actor_and_interface(admin_client, root):
    run = make_run(due_in=3600)
    post_action(admin_client, "cancel_selected", [run])

    page = admin_client.get(f"{CHANGELIST}{run.pk}/change/")

    [events] = page.context["inline_admin_formsets"]
    rows = [(f.original.kind, f.original.actor, f.original.interface) for f in events]
    assert rows == [
        ("scheduled", "command:tests", "command"),
        ("canceled", "root", "admin"),
    ]
    assert "Admin" in page.content.decode()


def test_change_view__links_a_requeue_and_its_original(admin_client):
    original = make_run(due_in=3600)
    set_status(original, TaskStatus.FAILED)
    post_action(admin_client, "requeue_selected", [original])
    requeue = ScheduledTask.objects.get(requeued_from=original)

    original_page = admin_client.get(f"{CHANGELIST}{original.pk}/change/")
    requeue_page = admin_client.get(f"{CHANGELIST}{requeue.pk}/change/")

    assert (
        f'<a class="bt-requeue" href="{CHANGELIST}{requeue.pk}/change/">'
        in original_page.content.decode()
    )
    assert (
        f'<a class="bt-requeued-from" href="{CHANGELIST}{original.pk}/change/">'
        in requeue_page.content.decode()
    )


# --- actions -------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(ACTIONS))
def test_action__hidden_without_its_permission(client, action):
    run = make_run(due_in=3600)
    make_staff(client)

    listed = action_names(client.get(CHANGELIST))
    response = post_action(client, action, [run], run_at="2030-01-01T00:00")

    assert action not in listed
    assert response.status_code == 200
    assert status_of(run) == TaskStatus.SCHEDULED
    assert not TaskEvent.objects.filter(interface=Interface.ADMIN).exists()


@pytest.mark.parametrize("action", list(ACTIONS))
def test_action__listed_with_its_permission(client, action):
    make_run(due_in=3600)
    make_staff(client, ACTIONS[action])

    assert action_names(client.get(CHANGELIST)) == ["", action]


def test_cancel_action__cancels_and_reports_skips_by_reason(client, redis_db):
    user = make_staff(client, "cancel_scheduledtask")
    scheduled, finished, lost = (
        make_run(due_in=3600),
        make_run(due_in=3600),
        make_run(due_in=3600),
    )
    set_status(finished, TaskStatus.FINISHED)
    redis_db.delete(BacktickJob.key_for(str(lost.pk)))

    response = post_action(client, "cancel_selected", [scheduled, finished, lost])

    assert messages_of(response) == [
        "Canceled 1 task.",
        f"Skipped 2 tasks: 1 already finished ({finished.pk}); 1 not found ({lost.pk}).",
    ]
    levels = [m.level_tag for m in response.context["messages"]]
    assert levels == ["success", "warning"]
    assert status_of(scheduled) == TaskStatus.CANCELED
    assert redis_db.zscore(SCHEDULE_KEY, str(scheduled.pk)) is None
    [event] = scheduled.events.filter(kind=TaskEvent.Kind.CANCELED)
    assert (event.actor_user, event.interface) == (user, Interface.ADMIN)


def test_run_now_action__queues_scheduled_runs_keeping_their_ids(
    admin_client, redis_db
):
    scheduled, queued, lost = (
        make_run(due_in=3600),
        make_run(due_in=None),
        make_run(due_in=3600),
    )
    redis_db.delete(BacktickJob.key_for(str(lost.pk)))

    response = post_action(admin_client, "run_now_selected", [scheduled, queued, lost])

    assert messages_of(response) == [
        "Queued 1 task to run now.",
        f"Skipped 2 tasks: 1 not found in Redis ({lost.pk}); "
        f"1 already queued ({queued.pk}).",
    ]
    assert status_of(scheduled) == TaskStatus.QUEUED
    assert str(scheduled.pk) in get_queue("default").get_job_ids()
    [event] = scheduled.events.filter(kind=TaskEvent.Kind.ENQUEUED, actor="root")
    assert event.interface == Interface.ADMIN


def test_skipped_message__lists_a_handful_of_ids_per_reason(admin_client):
    runs = [make_run(due_in=3600) for _ in range(7)]
    for run in runs:
        set_status(run, TaskStatus.FINISHED)

    response = post_action(admin_client, "cancel_selected", runs)

    [message] = messages_of(response)
    assert message.startswith("Skipped 7 tasks: 7 already finished (")
    assert message.endswith(" and 2 more).")
    assert len(re.findall(r"[0-9a-f]{8}-[0-9a-f-]{27}", message)) == 5


def test_reschedule_action__asks_for_the_time_then_moves_the_runs(
    admin_client, redis_db, settings
):
    settings.TIME_ZONE = "Asia/Kolkata"
    scheduled, finished = make_run(due_in=3600), make_run(due_in=3600)
    set_status(finished, TaskStatus.FINISHED)
    new_time = (timezone.now() + timedelta(days=2)).replace(microsecond=0)

    confirmation = post_action(
        admin_client, "reschedule_selected", [scheduled, finished]
    )
    html = confirmation.content.decode()
    done = admin_client.post(
        CHANGELIST,
        {
            "action": "reschedule_selected",
            "_selected_action": [str(scheduled.pk), str(finished.pk)],
            "select_across": "0",
            "apply": "Reschedule",
            "run_at": timezone.localtime(new_time).strftime("%Y-%m-%dT%H:%M:%S"),
        },
        follow=True,
    )

    assert 'id="bt-reschedule-form"' in html
    assert 'id="bt-eligible-count">1<' in html
    assert "Asia/Kolkata" in html
    assert messages_of(done)[0].startswith("Rescheduled 1 task to ")
    assert "IST" in messages_of(done)[0]
    assert messages_of(done)[1] == (
        f"Skipped 1 task: 1 already finished ({finished.pk})."
    )
    scheduled.refresh_from_db()
    assert scheduled.scheduled_for == new_time
    assert redis_db.zscore(SCHEDULE_KEY, str(scheduled.pk)) == new_time.timestamp()
    [event] = scheduled.events.filter(kind=TaskEvent.Kind.RESCHEDULED)
    assert (event.actor, event.interface) == ("root", Interface.ADMIN)


@pytest.mark.parametrize(
    ("run_at", "error"),
    [("2001-01-01T10:00", "is in the past."), ("soon", "Enter a valid date/time.")],
    ids=["past", "not_a_time"],
)
def test_reschedule_action__refuses_a_bad_time(admin_client, redis_db, run_at, error):
    run = make_run(due_in=3600)
    due = redis_db.zscore(SCHEDULE_KEY, str(run.pk))

    page = admin_client.post(
        CHANGELIST,
        {
            "action": "reschedule_selected",
            "_selected_action": [str(run.pk)],
            "select_across": "0",
            "apply": "Reschedule",
            "run_at": run_at,
        },
    )

    assert page.status_code == 200
    assert any(error in m for m in page.context["form"].errors["run_at"])
    assert redis_db.zscore(SCHEDULE_KEY, str(run.pk)) == due
    assert not run.events.filter(kind=TaskEvent.Kind.RESCHEDULED).exists()


def test_reschedule_action__across_every_row_of_a_filter(admin_client, redis_db):
    runs = [make_run(due_in=3600) for _ in range(3)]
    new_time = (timezone.now() + timedelta(days=1)).replace(microsecond=0)

    admin_client.post(
        f"{CHANGELIST}?status__exact=scheduled",
        {
            "action": "reschedule_selected",
            "_selected_action": [str(runs[0].pk)],
            "select_across": "1",
            "apply": "Reschedule",
            "run_at": timezone.localtime(new_time).strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )

    assert set(ScheduledTask.objects.values_list("scheduled_for", flat=True)) == {
        new_time
    }


def test_requeue_action__makes_new_runs_linked_to_the_ended_ones(admin_client):
    failed, pending = make_run(due_in=3600), make_run(due_in=3600)
    set_status(failed, TaskStatus.FAILED)

    response = post_action(admin_client, "requeue_selected", [failed, pending])

    new = ScheduledTask.objects.get(requeued_from=failed)
    assert messages_of(response) == [
        f"Requeued 1 task as new runs: {new.pk}.",
        f"Skipped 1 task: 1 scheduled ({pending.pk}).",
    ]
    assert new.status == TaskStatus.QUEUED
    assert str(new.pk) in get_queue("default").get_job_ids()
    [event] = failed.events.filter(kind=TaskEvent.Kind.REQUEUED)
    assert (event.actor, event.interface) == ("root", Interface.ADMIN)


def test_stop_action__skips_what_is_not_running(admin_client):
    run = make_run(due_in=3600)

    response = post_action(admin_client, "stop_selected", [run])

    assert messages_of(response) == [f"Skipped 1 task: 1 scheduled ({run.pk})."]
    assert [m.level_tag for m in response.context["messages"]] == ["warning"]


def test_action__query_count_does_not_grow_with_rows(admin_client):
    few = [make_run(due_in=3600) for _ in range(2)]
    many = [make_run(due_in=3600) for _ in range(20)]

    with CaptureQueriesContext(connection) as small:
        post_action(admin_client, "cancel_selected", few)
    with CaptureQueriesContext(connection) as large:
        post_action(admin_client, "cancel_selected", many)

    assert len(large) == len(small)
    assert ScheduledTask.objects.filter(status=TaskStatus.CANCELED).count() == 22


def test_action__redis_down_is_an_error_message(admin_client, settings):
    run = make_run(due_in=3600)
    settings.RQ_QUEUES = {
        name: {**config, "URL": "redis://127.0.0.1:1/12"}
        for name, config in settings.RQ_QUEUES.items()
    }

    response = post_action(admin_client, "cancel_selected", [run])

    assert response.status_code == 200
    [message] = response.context["messages"]
    assert message.level_tag == "error"
    assert "cannot be reached" in str(message)
    assert status_of(run) == TaskStatus.SCHEDULED


# --- the operations page -------------------------------------------------------------


def test_operations__renders_queues_charts_and_links(admin_client, redis_db):
    make_run(due_in=None)
    make_run(due_in=7200)
    ended = make_run(due_in=3600)
    set_status(ended, TaskStatus.FINISHED)

    response = admin_client.get(OPERATIONS)

    assert response.status_code == 200
    html = response.content.decode()
    for chart in ("upcoming-hours", "upcoming-days", "outcomes"):
        assert f'<svg id="bt-chart-{chart}"' in html
    default = next(q for q in response.context["queues"] if q.name == "default")
    assert (default.queued, default.scheduled, default.started) == (1, 1, 0)
    assert response.context["schedule_size"] == 2  # the finished row's job is left
    assert 'id="bt-no-workers"' in html
    assert 'id="bt-no-scheduler"' in html
    assert 'href="/admin/rq/"' in html
    assert response.context["upcoming_hours_total"] == 2
    assert response.context["outcomes_total"] == 1


def test_operations__shows_the_scheduler_and_its_last_tick(admin_client, redis_db):
    scheduler = BacktickScheduler(connection=redis_db, interval=5, name="tick-test")
    scheduler.register_birth()
    scheduler.heartbeat()

    response = admin_client.get(OPERATIONS)

    [state] = response.context["schedulers"]
    assert (state.name, state.alive) == ("tick-test", True)
    assert abs((timezone.now() - state.last_tick).total_seconds()) < 5
    assert 0 < state.expires_in <= 15
    assert 'data-scheduler="tick-test" data-alive="yes"' in response.content.decode()


def test_operations__index_links_to_it_and_it_needs_the_view_permission(
    admin_client, client
):
    index = admin_client.get("/admin/")
    assert f'id="bt-operations-link" href="{OPERATIONS}"' in index.content.decode()

    get_user_model().objects.create_user("nobody", password="pw", is_staff=True)
    client.login(username="nobody", password="pw")
    assert client.get(OPERATIONS).status_code == 403
    assert 'id="bt-operations-link"' not in client.get("/admin/").content.decode()


def test_operations__without_redis_shows_the_charts_and_an_error(
    admin_client, settings
):
    settings.RQ_QUEUES = {
        name: {**config, "URL": "redis://127.0.0.1:1/12"}
        for name, config in settings.RQ_QUEUES.items()
    }

    response = admin_client.get(OPERATIONS)

    assert response.status_code == 200
    assert '<svg id="bt-chart-outcomes"' in response.content.decode()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


# --- with a real worker --------------------------------------------------------------


def test_stop_action__stops_a_running_task_and_the_page_shows_it(worker, client):
    root = get_user_model().objects.create_superuser("root", "r@example.com", "pw")
    client.force_login(root)
    run = make_run(due_in=None, how_long=60)
    wait_until(lambda: status_of(run) == TaskStatus.STARTED, timeout=PROCESS_TIMEOUT)

    page = client.get(OPERATIONS)
    response = post_action(client, "stop_selected", [run])

    [state] = page.context["workers"]
    assert (state.name, state.current_task_id) == (worker.name, str(run.pk))
    assert messages_of(response) == ["Asked the workers to stop 1 task."]
    wait_until(lambda: status_of(run) == TaskStatus.STOPPED, timeout=PROCESS_TIMEOUT)
    [asked] = run.events.filter(kind=TaskEvent.Kind.STOPPED, actor="root")
    assert asked.interface == Interface.ADMIN
