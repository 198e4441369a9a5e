"""Queries of the audit mirror, shared by the API, the admin and the commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import QuerySet

from .models import FINAL_STATUSES, PENDING_STATUSES, ScheduledTask


def pending_tasks(
    *, task_name: str | None = None, before: datetime | None = None
) -> QuerySet[ScheduledTask]:
    """Tasks not yet running (scheduled, queued or deferred), soonest due first.

    ``task_name`` keeps only the runs of that task; ``before`` only those due before it.
    """
    tasks = ScheduledTask.objects.filter(status__in=PENDING_STATUSES)
    if task_name is not None:
        tasks = tasks.filter(task_name=task_name)
    if before is not None:
        tasks = tasks.filter(scheduled_for__lt=before)
    return tasks.order_by("scheduled_for", "pk")


def task_id_batches(
    tasks: QuerySet[ScheduledTask], *, size: int
) -> Iterator[list[str]]:
    """The primary keys of ``tasks`` as strings, ``size`` at a time, in key order.

    Pages by key rather than by offset, so rows that leave ``tasks`` between two pages
    (a canceled task stops being pending) neither skip nor repeat any other row, and a
    row that stays in ``tasks`` is yielded once.
    """
    ids = tasks.order_by("pk").values_list("pk", flat=True)
    last_pk = None
    while True:
        page = ids if last_pk is None else ids.filter(pk__gt=last_pk)
        batch = list(page[:size])
        if not batch:
            return
        yield [str(pk) for pk in batch]
        last_pk = batch[-1]


def ended_tasks(
    *,
    statuses: list[str] | None = None,
    task_name: str | None = None,
    since: datetime | None = None,
) -> QuerySet[ScheduledTask]:
    """Runs that have ended (finished, failed, stopped, canceled), oldest end first.

    ``statuses`` narrows the final statuses kept; ``task_name`` keeps only the runs of
    that task; ``since`` only the runs that ended at or after it.
    """
    tasks = ScheduledTask.objects.filter(status__in=statuses or FINAL_STATUSES)
    if task_name is not None:
        tasks = tasks.filter(task_name=task_name)
    if since is not None:
        tasks = tasks.filter(ended_at__gte=since)
    return tasks.order_by("ended_at", "pk")
