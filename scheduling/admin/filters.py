"""Changelist filters whose choices come from settings, not from a scan of the table.

Django's default filters for a plain field list its distinct values, which reads every
row; these know their choices in advance, so the changelist stays fast at any size.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model

from ..registry import task_paths

NO_USER = "none"


class TaskNameFilter(admin.SimpleListFilter):
    title = "task"
    parameter_name = "task_name"

    def lookups(self, request, model_admin):
        return [(name, name) for name in task_paths()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(task_name=self.value())
        return queryset


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(name, name) for name in settings.RQ_QUEUES]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(queue=self.value())
        return queryset


class CreatorFilter(admin.SimpleListFilter):
    """Runs by the user who asked for them, or by no user (a command or the system)."""

    title = "created by"
    parameter_name = "creator"

    def lookups(self, request, model_admin):
        model = get_user_model()
        users = model.objects.filter(is_active=True).order_by(model.USERNAME_FIELD)
        choices = [(str(user.pk), user.get_username()) for user in users[:100]]
        return [*choices, (NO_USER, "No user (command or system)")]

    def queryset(self, request, queryset):
        if self.value() == NO_USER:
            return queryset.filter(created_by__isnull=True)
        if self.value() and self.value().isdigit():
            return queryset.filter(created_by_id=int(self.value()))
        return queryset
