"""Every change of state of a scheduled task.

Entry points (API views, admin, management commands, worker hooks) call these functions
and nothing else; none of them writes ScheduledTask.status or talks to Redis on its own.
"""

from .cancel import CancelReport, Outcome, cancel_tasks
from .control import (
    ActionReport,
    act_on_task,
    cancel_tasks_reported,
    requeue_tasks,
    reschedule_tasks,
    run_tasks_now,
    stop_tasks,
    validate_new_time,
)
from .ids import parse_task_id
from .schedule import build_job, schedule_task, validate_run_times

__all__ = [
    "ActionReport",
    "CancelReport",
    "Outcome",
    "act_on_task",
    "build_job",
    "cancel_tasks",
    "cancel_tasks_reported",
    "parse_task_id",
    "requeue_tasks",
    "reschedule_tasks",
    "run_tasks_now",
    "schedule_task",
    "stop_tasks",
    "validate_new_time",
    "validate_run_times",
]
