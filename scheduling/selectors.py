"""Queries of the audit mirror, shared by the API, the admin and the commands."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import redis
from django.conf import settings
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from .exceptions import RedisUnavailable
from .jobs import SCHEDULE_KEY, BacktickJob, JobSerializer
from .models import FINAL_STATUSES, PENDING_STATUSES, ScheduledTask, TaskStatus
from .redis_keys import get_connection, get_queue


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


# --- the operations page -------------------------------------------------------------


def _local_hour_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(minute=0, second=0, microsecond=0)


def _hour_slots(start: datetime, hours: int) -> list[datetime]:
    # Step in UTC so that a change of daylight saving time neither skips nor repeats.
    start_utc = start.astimezone(UTC)
    return [
        timezone.localtime(start_utc + timedelta(hours=offset))
        for offset in range(hours)
    ]


def upcoming_runs_per_hour(
    *, now: datetime | None = None, hours: int = 24
) -> list[tuple[datetime, int]]:
    """Pending runs due in each of the next ``hours`` hours of TIME_ZONE, from this one.

    Counted by the database; returns one (hour start, count) pair per hour, zeros
    included.
    """
    slots = _hour_slots(_local_hour_start(now or timezone.now()), hours)
    end = slots[-1] + timedelta(hours=1)
    counts = dict(
        ScheduledTask.objects.filter(
            status__in=PENDING_STATUSES,
            scheduled_for__gte=slots[0],
            scheduled_for__lt=end,
        )
        .annotate(
            bucket=TruncHour("scheduled_for", tzinfo=timezone.get_current_timezone())
        )
        .values("bucket")
        .annotate(runs=Count("pk"))
        .values_list("bucket", "runs")
    )
    return [(slot, _count_at(counts, slot)) for slot in slots]


def upcoming_runs_per_day(
    *, now: datetime | None = None, days: int = 30
) -> list[tuple[date, int]]:
    """Pending runs due on each of the next ``days`` days of TIME_ZONE, from today.

    Counted by the database; returns one (day, count) pair per day, zeros included.
    """
    zone = timezone.get_current_timezone()
    today = timezone.localtime(now or timezone.now()).date()
    days_ahead = [today + timedelta(days=offset) for offset in range(days)]
    start = datetime.combine(today, time(), tzinfo=zone)
    end = datetime.combine(today + timedelta(days=days), time(), tzinfo=zone)
    rows = (
        ScheduledTask.objects.filter(
            status__in=PENDING_STATUSES, scheduled_for__gte=start, scheduled_for__lt=end
        )
        .annotate(bucket=TruncDay("scheduled_for", tzinfo=zone))
        .values("bucket")
        .annotate(runs=Count("pk"))
        .values_list("bucket", "runs")
    )
    counts = {timezone.localtime(bucket).date(): runs for bucket, runs in rows}
    return [(day, counts.get(day, 0)) for day in days_ahead]


OUTCOME_STATUSES = (
    TaskStatus.FINISHED,
    TaskStatus.FAILED,
    TaskStatus.STOPPED,
    TaskStatus.CANCELED,
)


def outcomes_per_hour(
    *, now: datetime | None = None, hours: int = 24
) -> list[tuple[datetime, dict[str, int]]]:
    """Runs that ended in each of the last ``hours`` hours of TIME_ZONE, by final status.

    Counted by the database; the last hour is the current one. Returns one (hour start,
    {status: count}) pair per hour, every status of OUTCOME_STATUSES present.
    """
    current = _local_hour_start(now or timezone.now())
    slots = _hour_slots(current - timedelta(hours=hours - 1), hours)
    rows = (
        ScheduledTask.objects.filter(
            status__in=OUTCOME_STATUSES,
            ended_at__gte=slots[0],
            ended_at__lt=slots[-1] + timedelta(hours=1),
        )
        .annotate(bucket=TruncHour("ended_at", tzinfo=timezone.get_current_timezone()))
        .values("bucket", "status")
        .annotate(runs=Count("pk"))
        .values_list("bucket", "status", "runs")
    )
    counts: dict[tuple[datetime, str], int] = {
        (bucket, status): runs for bucket, status, runs in rows
    }
    return [
        (
            slot,
            {status: _count_at(counts, (slot, status)) for status in OUTCOME_STATUSES},
        )
        for slot in slots
    ]


def _count_at(counts: dict, key: object) -> int:
    # Aware datetimes compare by instant, whatever zone the database returned them in.
    return counts.get(key, 0)


def scheduled_runs_per_queue() -> dict[str, int]:
    """How many runs each queue has waiting in the schedule, by the audit rows."""
    return dict(
        ScheduledTask.objects.filter(status=TaskStatus.SCHEDULED)
        .values("queue")
        .annotate(runs=Count("pk"))
        .values_list("queue", "runs")
    )


@dataclass(frozen=True)
class QueueStats:
    name: str
    queued: int
    started: int
    scheduled: int
    failed: int
    deferred: int


def queue_stats() -> tuple[list[QueueStats], int]:
    """Counts of every configured queue, and the size of rq-scheduler's schedule.

    Queued, started, failed and deferred come from the queue and rq's registries in
    Redis; scheduled comes from the audit rows, since the schedule is one sorted set
    for every queue. Raises RedisUnavailable.
    """
    names = list(settings.RQ_QUEUES)
    try:
        connection = get_connection()
        with connection.pipeline(transaction=False) as pipe:
            for name in names:
                queue = get_queue(name)
                pipe.llen(queue.key)
                pipe.zcard(queue.started_job_registry.key)
                pipe.zcard(queue.failed_job_registry.key)
                pipe.zcard(queue.deferred_job_registry.key)
            pipe.zcard(SCHEDULE_KEY)
            counts = pipe.execute()
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc

    scheduled = scheduled_runs_per_queue()
    stats = [
        QueueStats(
            name=name,
            queued=counts[4 * index],
            started=counts[4 * index + 1],
            scheduled=scheduled.get(name, 0),
            failed=counts[4 * index + 2],
            deferred=counts[4 * index + 3],
        )
        for index, name in enumerate(names)
    ]
    return stats, counts[-1]


@dataclass(frozen=True)
class WorkerState:
    name: str
    state: str
    queues: list[str]
    current_task_id: str | None
    last_heartbeat: datetime | None
    birth: datetime | None
    successful: int
    failed: int


def worker_states() -> list[WorkerState]:
    """The rq workers registered on the project's Redis and what each is running.

    Raises RedisUnavailable.
    """
    from .worker import BacktickWorker

    try:
        workers = BacktickWorker.all(
            connection=get_connection(), job_class=BacktickJob, serializer=JobSerializer
        )
        states = [
            WorkerState(
                name=worker.name,
                state=str(worker.get_state()),
                queues=worker.queue_names(),
                current_task_id=worker.get_current_job_id(),
                last_heartbeat=worker.last_heartbeat,
                birth=worker.birth_date,
                successful=worker.successful_job_count,
                failed=worker.failed_job_count,
            )
            for worker in workers
        ]
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc
    return sorted(states, key=lambda state: state.name)


SCHEDULER_PREFIX = "rq:scheduler_instance:"


@dataclass(frozen=True)
class SchedulerState:
    name: str
    alive: bool
    birth: datetime | None
    last_tick: datetime | None
    expires_in: int | None


def scheduler_states() -> list[SchedulerState]:
    """The rq-scheduler instances registered in Redis, with the time of their last tick.

    An instance is alive while its key lives (each tick renews its expiry) and it has
    not written its death. Raises RedisUnavailable.
    """
    try:
        connection = get_connection()
        keys = sorted(connection.scan_iter(match=f"{SCHEDULER_PREFIX}*", count=100))
        with connection.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
                pipe.ttl(key)
            replies = pipe.execute()
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc

    states = []
    for index, key in enumerate(keys):
        fields = {k.decode(): v.decode() for k, v in replies[2 * index].items()}
        ttl = replies[2 * index + 1]
        states.append(
            SchedulerState(
                name=key.decode()[len(SCHEDULER_PREFIX) :],
                alive=bool(fields) and "death" not in fields,
                birth=_from_timestamp(fields.get("birth")),
                last_tick=_from_timestamp(fields.get("last_tick")),
                expires_in=ttl if ttl is not None and ttl >= 0 else None,
            )
        )
    return states


def _from_timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except ValueError:
        return None
