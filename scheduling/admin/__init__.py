"""The operations console: the audit mirror, scheduling, actions, and the queues."""

from .tasks import ScheduledTaskAdmin, TaskEventInline

__all__ = ["ScheduledTaskAdmin", "TaskEventInline"]
