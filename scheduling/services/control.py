"""Operator actions on existing runs: run now, reschedule, requeue, stop.

Each action takes many ids at once (the admin acts on thousands of selected rows) and
reports, for every id, whether it was done or why it was skipped. The single-task API
and commands go through the same functions with one id.

Run now, reschedule and stop keep the run's id; requeue makes a new run, linked to the
one it repeats. Redis is written first, where the action takes effect atomically; the
audit rows follow, and `reconcile_tasks` heals them if that second write fails.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import redis
from django.db import transaction
from django.utils import timezone
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError

from .. import mirror
from ..actors import Actor
from ..exceptions import (
    ActionRefused,
    InvalidSchedule,
    RedisUnavailable,
    TaskNotFound,
    UnknownTask,
)
from ..jobs import SCHEDULE_KEY, BacktickJob, JobSerializer, move_scheduled_jobs
from ..models import (
    FINAL_STATUSES,
    PENDING_STATUSES,
    ScheduledTask,
    TaskEvent,
    TaskStatus,
)
from ..redis_keys import get_connection, queues_of
from ..registry import get_task
from .cancel import Outcome, cancel_tasks
from .ids import parse_task_id
from .schedule import new_run, save_runs, validate_run_times, write_jobs

logger = logging.getLogger(__name__)

NOT_FOUND = "not_found"
MISSING_IN_REDIS = "missing_in_redis"
UNKNOWN_TASK = "unknown_task"

ALLOWED_STATUSES: dict[str, Collection[str]] = {
    "cancel": PENDING_STATUSES,
    "run_now": {TaskStatus.SCHEDULED},
    "reschedule": {TaskStatus.SCHEDULED, TaskStatus.QUEUED},
    "requeue": FINAL_STATUSES,
    "stop": {TaskStatus.STARTED},
}


# How each action reads at the end of "only scheduled tasks can ...".
PASSIVE = {
    "cancel": "be canceled",
    "run_now": "run now",
    "reschedule": "be rescheduled",
    "requeue": "be requeued",
    "stop": "be stopped",
}


@dataclass
class ActionReport:
    """What an action did with each id it was given.

    ``done`` maps each id acted on to a detail (for a requeue, the id of the new run);
    ``skipped`` maps every other id to its reason: ``not_found``, ``missing_in_redis``,
    ``unknown_task``, or the status that does not allow the action.
    """

    action: str
    done: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def explain(self, task_id: str) -> str:
        """A sentence for people saying why ``task_id`` was skipped."""
        return explain_refusal(self.action, task_id, self.skipped[task_id])


def explain_refusal(action: str, task_id: str, reason: str) -> str:
    if reason == NOT_FOUND:
        return f"No task has the id {task_id!r}."
    if reason == MISSING_IN_REDIS:
        return f"Task {task_id} is no longer in Redis, so it cannot be changed."
    if reason == UNKNOWN_TASK:
        return f"Task {task_id} names a task that is no longer registered."
    allowed = ", ".join(sorted(ALLOWED_STATUSES[action]))
    return f"Task {task_id} is {reason}; only {allowed} tasks can {PASSIVE[action]}."


def _eligible(
    report: ActionReport, task_ids: Iterable[Any]
) -> list[tuple[str, ScheduledTask]]:
    """Rows for the ids whose audit status allows the action; the rest are skipped."""
    parsed = {str(value): parse_task_id(value) for value in task_ids}
    rows = ScheduledTask.objects.in_bulk([pk for pk in parsed.values() if pk])
    allowed = ALLOWED_STATUSES[report.action]

    eligible = []
    for given, pk in parsed.items():
        row = rows.get(pk) if pk else None
        if row is None:
            report.skipped[given] = NOT_FOUND
        elif row.status not in allowed:
            report.skipped[given] = row.status
        else:
            eligible.append((given, row))
    return eligible


def _skip_for_redis_state(
    report: ActionReport, given: str, status: bytes | None
) -> None:
    report.skipped[given] = status.decode() if status else MISSING_IN_REDIS


# --- run now -------------------------------------------------------------------------


def run_tasks_now(*, task_ids: Iterable[Any], actor: Actor) -> ActionReport:
    """Move scheduled runs to their queues now, keeping their ids.

    Raises RedisUnavailable.
    """
    report = ActionReport("run_now")
    eligible = _eligible(report, task_ids)
    try:
        connection = get_connection()
        moved = set(
            move_scheduled_jobs(connection, [str(row.pk) for _, row in eligible])
        )
        left = [(given, row) for given, row in eligible if str(row.pk) not in moved]
        with connection.pipeline(transaction=False) as pipe:
            for _, row in left:
                pipe.hget(BacktickJob.key_for(str(row.pk)), "status")
            statuses = pipe.execute()
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc

    for given, row in eligible:
        if str(row.pk) in moved:
            report.done[given] = ""
    for (given, _), status in zip(left, statuses, strict=True):
        _skip_for_redis_state(report, given, status)

    mirror.record_tasks_enqueued(
        sorted(moved), actor=actor, detail="run now", due_now=True
    )
    _log_done(report, actor)
    return report


# --- reschedule ----------------------------------------------------------------------

# Give a scheduled or queued job a new due time in the schedule. Scripts run one at a
# time, so the job is either still in the schedule (or its queue) and gets its new
# time, or a scheduler moved it first and it is reported with its new status.
RESCHEDULE_SCRIPT = """
local job_key, schedule_key, queue_key = KEYS[1], KEYS[2], KEYS[3]
local job_id, due = ARGV[1], ARGV[2]
if redis.call('EXISTS', job_key) == 0 then
    return 'missing'
end
if redis.call('ZSCORE', schedule_key, job_id)
        or redis.call('LREM', queue_key, 0, job_id) > 0 then
    redis.call('HSET', job_key, 'status', 'scheduled')
    redis.call('ZADD', schedule_key, due, job_id)
    return 'done'
end
return redis.call('HGET', job_key, 'status') or 'missing'
"""


def validate_new_time(run_at: datetime, *, field_name: str = "datetime") -> datetime:
    """The new due time in UTC; raises InvalidSchedule naming ``field_name``."""
    try:
        validate_run_times([run_at])
    except InvalidSchedule as exc:
        raise InvalidSchedule({field_name: exc.detail["datetimes"][0]}) from exc
    return run_at.astimezone(UTC)


def reschedule_tasks(
    *, task_ids: Iterable[Any], run_at: datetime, actor: Actor
) -> ActionReport:
    """Give scheduled (or queued, not yet started) runs a new due time, keeping their ids.

    Raises InvalidSchedule for a naive, past or too distant time, and RedisUnavailable.
    """
    run_at = validate_new_time(run_at)
    report = ActionReport("reschedule")
    eligible = _eligible(report, task_ids)

    try:
        verdicts = _reschedule_in_redis([row for _, row in eligible], run_at)
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc

    moved = []
    for (given, row), verdict in zip(eligible, verdicts, strict=True):
        if verdict == "done":
            report.done[given] = ""
            moved.append(row)
        else:
            report.skipped[given] = (
                MISSING_IN_REDIS if verdict == "missing" else verdict
            )

    _record_rescheduled(moved, run_at, actor)
    _log_done(report, actor)
    return report


def _reschedule_in_redis(rows: list[ScheduledTask], run_at: datetime) -> list[str]:
    if not rows:
        return []
    connection = get_connection()
    script = connection.register_script(RESCHEDULE_SCRIPT)
    queues = queues_of(row.queue for row in rows)
    with connection.pipeline(transaction=False) as pipe:
        for row in rows:
            keys = [
                BacktickJob.key_for(str(row.pk)),
                SCHEDULE_KEY,
                queues[row.queue].key,
            ]
            script(keys=keys, args=[str(row.pk), run_at.timestamp()], client=pipe)
        return [v.decode() if isinstance(v, bytes) else v for v in pipe.execute()]


def _record_rescheduled(
    rows: list[ScheduledTask], run_at: datetime, actor: Actor
) -> None:
    if not rows:
        return
    now = timezone.now()
    with transaction.atomic():
        ScheduledTask.objects.filter(
            pk__in=[row.pk for row in rows], status__in=ALLOWED_STATUSES["reschedule"]
        ).update(status=TaskStatus.SCHEDULED, scheduled_for=run_at, enqueued_at=None)
        TaskEvent.objects.bulk_create(
            TaskEvent(
                task=row,
                kind=TaskEvent.Kind.RESCHEDULED,
                at=now,
                detail=f"from {row.scheduled_for.isoformat()} to {run_at.isoformat()}",
                **actor.event_fields(),
            )
            for row in rows
        )


# --- requeue -------------------------------------------------------------------------


def requeue_tasks(*, task_ids: Iterable[Any], actor: Actor) -> ActionReport:
    """Run ended tasks again now, each as a new run linked to the one it repeats.

    The new run gets the original's task and kwargs and the task's current job options.
    Raises RedisUnavailable; the new runs of that batch are then marked failed.
    """
    report = ActionReport("requeue")
    by_task: dict[str, list[tuple[str, ScheduledTask]]] = defaultdict(list)
    for given, row in _eligible(report, task_ids):
        by_task[row.task_name].append((given, row))

    now = timezone.now()
    for task_name, originals in by_task.items():
        try:
            task = get_task(task_name)
        except UnknownTask:
            report.skipped.update((given, UNKNOWN_TASK) for given, _ in originals)
            continue

        runs = [
            new_run(
                task_name=task_name,
                task=task,
                kwargs=row.kwargs,
                run_at=None,
                actor=actor,
                now=now,
                requeued_from=row,
            )
            for _, row in originals
        ]
        save_runs(runs, actor=actor, now=now)
        write_jobs(task, runs)
        _record_requeued(originals, runs, actor, now)
        report.done.update(
            (given, str(run.pk))
            for (given, _), run in zip(originals, runs, strict=True)
        )

    _log_done(report, actor)
    return report


def _record_requeued(
    originals: list[tuple[str, ScheduledTask]],
    runs: list[ScheduledTask],
    actor: Actor,
    now: datetime,
) -> None:
    TaskEvent.objects.bulk_create(
        TaskEvent(
            task=row,
            kind=TaskEvent.Kind.REQUEUED,
            at=now,
            detail=f"as {run.pk}",
            **actor.event_fields(),
        )
        for (_, row), run in zip(originals, runs, strict=True)
    )


# --- stop ----------------------------------------------------------------------------

STOP_REQUESTED = "stop requested"


def stop_tasks(*, task_ids: Iterable[Any], actor: Actor) -> ActionReport:
    """Ask the workers running these tasks to stop them; the runs keep their ids.

    The worker kills the work horse and records the run stopped. Each request is written
    to the history first as a 'stopped' event with the detail "stop requested" and the
    acting user or command. Raises RedisUnavailable.
    """
    report = ActionReport("stop")
    connection = get_connection()
    asked: list[tuple[ScheduledTask, datetime]] = []
    try:
        for given, row in _eligible(report, task_ids):
            requested_at = timezone.now()
            try:
                send_stop_job_command(connection, str(row.pk), serializer=JobSerializer)
            except NoSuchJobError:
                report.skipped[given] = MISSING_IN_REDIS
                continue
            except InvalidJobOperation:
                status = connection.hget(BacktickJob.key_for(str(row.pk)), "status")
                _skip_for_redis_state(report, given, cast("bytes | None", status))
                continue
            report.done[given] = ""
            asked.append((row, requested_at))
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable() from exc
    finally:
        TaskEvent.objects.bulk_create(
            TaskEvent(
                task=row,
                kind=TaskEvent.Kind.STOPPED,
                # Stamped before the request went out, so it sorts before the worker's
                # own record of the stop.
                at=requested_at,
                detail=STOP_REQUESTED,
                **actor.event_fields(),
            )
            for row, requested_at in asked
        )
    _log_done(report, actor)
    return report


# --- cancel, reported like the others ------------------------------------------------


def cancel_tasks_reported(*, task_ids: Iterable[Any], actor: Actor) -> ActionReport:
    """cancel_tasks, with its outcomes in the shape of the other actions' reports."""
    report = ActionReport("cancel")
    statuses = {
        Outcome.NOT_FOUND: NOT_FOUND,
        Outcome.ALREADY_FINISHED: TaskStatus.FINISHED,
        Outcome.FAILED: TaskStatus.FAILED,
        Outcome.RUNNING: TaskStatus.STARTED,
        Outcome.STOPPED: TaskStatus.STOPPED,
        Outcome.ALREADY_CANCELED: TaskStatus.CANCELED,
    }
    for given, outcome in cancel_tasks(task_ids=task_ids, actor=actor).outcomes.items():
        if outcome == Outcome.CANCELED:
            report.done[given] = ""
        else:
            report.skipped[given] = statuses[outcome]
    return report


# --- one task at a time --------------------------------------------------------------

ACTIONS: dict[str, Callable[..., ActionReport]] = {
    "cancel": cancel_tasks_reported,
    "run_now": run_tasks_now,
    "reschedule": reschedule_tasks,
    "requeue": requeue_tasks,
    "stop": stop_tasks,
}


def act_on_task(
    action: str, task_id: str, *, actor: Actor, **options: Any
) -> ActionReport:
    """Apply one action to one task; raise TaskNotFound or ActionRefused when not done."""
    report = ACTIONS[action](task_ids=[task_id], actor=actor, **options)
    if task_id in report.done:
        return report

    reason = report.skipped[task_id]
    if reason == NOT_FOUND:
        raise TaskNotFound(task_id)
    raise ActionRefused(report.explain(task_id), reason=reason)


def _log_done(report: ActionReport, actor: Actor) -> None:
    for task_id in report.done:
        logger.info(
            "Task %s: %s by %s",
            task_id,
            report.action,
            actor.label,
            extra={"event": f"task_{report.action}", "task_id": task_id},
        )
