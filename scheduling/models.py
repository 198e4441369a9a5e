"""The audit mirror: one ScheduledTask per rq job and the append-only history of each."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TaskStatus(models.TextChoices):
    """rq's own words for where a job stands."""

    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    DEFERRED = "deferred", "Deferred"
    STARTED = "started", "Started"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    STOPPED = "stopped", "Stopped"
    CANCELED = "canceled", "Canceled"


FINAL_STATUSES = frozenset(
    {TaskStatus.FINISHED, TaskStatus.FAILED, TaskStatus.STOPPED, TaskStatus.CANCELED}
)
PENDING_STATUSES = frozenset(
    {TaskStatus.SCHEDULED, TaskStatus.QUEUED, TaskStatus.DEFERRED}
)


class Interface(models.TextChoices):
    """The way an action reached backtick."""

    API = "api", "API"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Command"
    WORKER = "worker", "Worker"
    SCHEDULER = "scheduler", "Scheduler"


class ScheduledTask(models.Model):
    """One run of a registered task; its primary key is the rq job id."""

    id = models.UUIDField(primary_key=True, editable=False)
    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=TaskStatus.choices)
    scheduled_for = models.DateTimeField(help_text="When the run is due.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scheduled_tasks",
    )
    created_via = models.CharField(max_length=16, choices=Interface.choices)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker_name = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    requeued_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requeues",
        help_text="The run this one repeats, when it was made by a requeue.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-scheduled_for"]
        permissions = [
            ("cancel_scheduledtask", "Can cancel scheduled tasks"),
            ("run_now_scheduledtask", "Can run scheduled tasks now"),
            ("reschedule_scheduledtask", "Can reschedule tasks"),
            ("requeue_scheduledtask", "Can requeue ended tasks"),
            ("stop_scheduledtask", "Can stop running tasks"),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_for"]),
            models.Index(fields=["task_name", "scheduled_for"]),
            models.Index(fields=["queue", "scheduled_for"]),
            models.Index(fields=["scheduled_for"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} {self.id}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class TaskEvent(models.Model):
    """Something that happened to a ScheduledTask; rows are only ever added."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        SCHEDULED = "scheduled", "Scheduled"
        RESCHEDULED = "rescheduled", "Rescheduled"
        ENQUEUED = "enqueued", "Enqueued"
        STARTED = "started", "Started"
        RETRIED = "retried", "Retried"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        STOPPED = "stopped", "Stopped"
        CANCELED = "canceled", "Canceled"
        REQUEUED = "requeued", "Requeued"

    task = models.ForeignKey(
        ScheduledTask, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now, editable=False)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="task_events",
    )
    actor = models.CharField(
        max_length=150, help_text="Who acted: a username, a command name, or 'system'."
    )
    interface = models.CharField(max_length=16, choices=Interface.choices)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["task", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} of {self.task_id} by {self.actor}"
