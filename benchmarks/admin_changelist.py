"""How fast the admin changelist answers over 100,000 rows in PostgreSQL.

Not part of the test suite: run it on purpose, with the tests' environment::

    REDIS_URL=redis://127.0.0.1:6379/12 \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backtick_admin \\
    .venv/bin/pytest benchmarks/admin_changelist.py -m benchmark -s

It prints the median response time and the number of queries of each page.
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scheduling.models import Interface, ScheduledTask, TaskStatus

pytestmark = [pytest.mark.benchmark, pytest.mark.django_db]

ROWS = 100_000
REPEAT = 5
CHANGELIST = "/admin/scheduling/scheduledtask/"
TASKS = ["do_something", "raise_exception", "raise_exception_again", "make_request"]


def fill(count: int, users: list) -> None:
    """``count`` rows spread over statuses, tasks, queues, users and +/- 30 days."""
    statuses = list(TaskStatus.values)
    now = timezone.now()
    rows = (
        ScheduledTask(
            id=uuid.uuid4(),
            task_name=TASKS[index % len(TASKS)],
            kwargs={"how_long": index % 7},
            queue="another" if index % 5 == 0 else "default",
            status=statuses[(index // 3) % len(statuses)],
            scheduled_for=now + timedelta(seconds=(index - count // 2) * 50),
            created_by=users[index % len(users)] if index % 4 else None,
            created_via=Interface.API,
            attempts=index % 3,
        )
        for index in range(count)
    )
    ScheduledTask.objects.bulk_create(rows, batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE scheduling_scheduledtask")


def timed(client, url: str, params: dict) -> tuple[float, int]:
    """Median seconds of REPEAT answers, and the queries of one."""
    client.get(url, params)
    durations = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(url, params)
        durations.append(time.perf_counter() - start)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url, params)
    return statistics.median(durations), len(queries)


def test_changelist_over_100k_rows(admin_client, root):
    users = [root] + [
        get_user_model().objects.create_user(f"user{n}", password="pw")
        for n in range(5)
    ]
    start = time.perf_counter()
    fill(ROWS, users)
    print(f"\ninserted {ROWS:,} rows in {time.perf_counter() - start:.1f} s")

    pages = {
        "default page": (CHANGELIST, {}),
        "status filter": (CHANGELIST, {"status__exact": "scheduled"}),
        "task filter": (CHANGELIST, {"task_name": "make_request"}),
        "creator filter": (CHANGELIST, {"creator": str(users[2].pk)}),
        "status + queue": (CHANGELIST, {"status__exact": "failed", "queue": "another"}),
        "search by name": (CHANGELIST, {"q": "request"}),
        "operations page": (f"{CHANGELIST}operations/", {}),
    }
    for name, (url, params) in pages.items():
        seconds, queries = timed(admin_client, url, params)
        print(f"{name:>16}: {seconds * 1000:7.1f} ms, {queries} queries")
