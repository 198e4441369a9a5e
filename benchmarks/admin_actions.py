"""How fast admin actions act on 10,000 selected scheduled runs (real Redis and PostgreSQL).

Not part of the test suite: run it on purpose, with the tests' environment::

    REDIS_URL=redis://127.0.0.1:6379/12 \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backtick_admin \\
    .venv/bin/pytest benchmarks/admin_actions.py -m benchmark -s

Each action is posted to the changelist with "select all" across a status filter, as an
operator does, and its wall time printed.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from scheduling.actors import Actor
from scheduling.jobs import SCHEDULE_KEY
from scheduling.models import ScheduledTask, TaskStatus
from scheduling.services import schedule_task

pytestmark = [pytest.mark.benchmark, pytest.mark.django_db]

ROWS = 10_000
CHANGELIST = "/admin/scheduling/scheduledtask/"


@override_settings(BACKTICK_MAX_DATETIMES=ROWS)
def schedule_many(count: int) -> list[ScheduledTask]:
    now = timezone.now()
    return schedule_task(
        task_name="do_something",
        kwargs={"how_long": 0},
        run_times=[now + timedelta(hours=1, seconds=n) for n in range(count)],
        actor=Actor.command("benchmark"),
    )


def post_across(client, action: str, some_id: str):
    start = time.perf_counter()
    response = client.post(
        f"{CHANGELIST}?status__exact=scheduled",
        {
            "action": action,
            "_selected_action": [some_id],
            "select_across": "1",
            "index": "0",
        },
        follow=True,
    )
    seconds = time.perf_counter() - start
    assert response.status_code == 200
    return seconds, [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize(
    ("action", "status"),
    [("cancel_selected", TaskStatus.CANCELED), ("run_now_selected", TaskStatus.QUEUED)],
)
def test_action_over_10k_rows(admin_client, redis_db, action, status):
    start = time.perf_counter()
    runs = schedule_many(ROWS)
    print(f"\nscheduled {ROWS:,} runs in {time.perf_counter() - start:.1f} s")
    assert redis_db.zcard(SCHEDULE_KEY) == ROWS

    seconds, messages = post_across(admin_client, action, str(runs[0].pk))

    print(f"{action} over {ROWS:,} rows: {seconds:.2f} s; {messages}")
    assert ScheduledTask.objects.filter(status=status).count() == ROWS
    assert redis_db.zcard(SCHEDULE_KEY) == 0
