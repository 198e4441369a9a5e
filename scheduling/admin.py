"""A read-only view of the audit mirror for operators."""

from django.contrib import admin

from .models import ScheduledTask, TaskEvent


class TaskEventInline(admin.TabularInline):
    model = TaskEvent
    fields = ["at", "kind", "actor", "interface", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ScheduledTask)
class ScheduledTaskAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "task_name",
        "status",
        "queue",
        "scheduled_for",
        "attempts",
        "created_by",
    ]
    list_filter = ["status", "task_name", "queue"]
    search_fields = ["=id"]
    date_hierarchy = "scheduled_for"
    list_select_related = ["created_by"]
    inlines = [TaskEventInline]
    readonly_fields = [
        "id",
        "task_name",
        "kwargs",
        "queue",
        "status",
        "scheduled_for",
        "created_at",
        "created_by",
        "created_via",
        "enqueued_at",
        "started_at",
        "ended_at",
        "attempts",
        "worker_name",
        "result",
        "error",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        # Ids are UUIDs: a term that is not one matches nothing instead of failing.
        from .services import parse_task_id

        if search_term and parse_task_id(search_term.strip().lower()) is None:
            return queryset.none(), False
        return super().get_search_results(
            request, queryset, search_term.strip().lower()
        )
