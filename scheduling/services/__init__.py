"""Every change of state of a scheduled task.

Entry points (API views, admin, management commands, worker hooks) call these functions
and nothing else; none of them writes ScheduledTask.status or talks to Redis on its own.
"""

from .cancel import CancelReport, Outcome, cancel_tasks
from .ids import parse_task_id
from .schedule import build_job, schedule_task, validate_run_times

__all__ = [
    "CancelReport",
    "Outcome",
    "build_job",
    "cancel_tasks",
    "parse_task_id",
    "schedule_task",
    "validate_run_times",
]
