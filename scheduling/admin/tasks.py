"""The admin of the audit mirror: inspect runs, schedule new ones, act on many at once."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from ..actors import Actor
from ..exceptions import BacktickError, InvalidSchedule, UnknownTask
from ..forms import ScheduleTaskForm, local_text, signature_text
from ..models import Interface, ScheduledTask, TaskEvent
from ..registry import describe_parameters, registered_tasks
from ..services import parse_task_id, schedule_task
from .actions import IDS_SHOWN, TaskActionsMixin
from .filters import CreatorFilter, QueueFilter, TaskNameFilter
from .operations import operations_view

EVENT_FIELDS = ("at", "kind", "actor", "interface", "detail")
# The change view's sections, every field of them read-only.
DETAIL_SECTIONS: list[tuple[str | None, tuple[str, ...]]] = [
    (None, ("id", "task_name", "status_badge", "queue", "kwargs_pretty")),
    ("Times", ("scheduled_for", "created_at", "enqueued_at", "started_at", "ended_at")),
    (
        "Run",
        (
            "created_by",
            "created_via",
            "attempts",
            "worker_name",
            "result_pretty",
            "error_details",
            "requeued_from_link",
            "requeues_links",
        ),
    ),
]


class TaskEventInline(admin.TabularInline):
    model = TaskEvent
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS
    extra = 0
    can_delete = False
    ordering = ["at", "id"]
    classes = ["bt-history"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def change_url(task_id: Any) -> str:
    return reverse("admin:scheduling_scheduledtask_change", args=[task_id])


def pretty_json(value: Any) -> str:
    return format_html(
        '<pre class="bt-json">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False),
    )


@admin.register(ScheduledTask)
class ScheduledTaskAdmin(TaskActionsMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "status_badge",
        "task_name",
        "queue",
        "scheduled",
        "attempts",
        "creator",
    ]
    list_filter = [
        "status",
        TaskNameFilter,
        QueueFilter,
        CreatorFilter,
        "created_via",
        ("scheduled_for", admin.DateFieldListFilter),
    ]
    # The search is done by get_search_results; the field only shows the search box.
    search_fields = ["task_name"]
    search_help_text = "An exact task id, or part of a task name."
    date_hierarchy = "scheduled_for"
    ordering = ["-scheduled_for"]
    list_select_related = ["created_by"]
    list_per_page = 100
    # Counting the whole table on every filtered page costs a scan of every row.
    show_full_result_count = False
    inlines = [TaskEventInline]
    fieldsets = [(title, {"fields": names}) for title, names in DETAIL_SECTIONS]
    readonly_fields = [name for _, names in DETAIL_SECTIONS for name in names]

    class Media:
        css = {"all": ["scheduling/admin.css"]}

    # --- permissions -----------------------------------------------------------------

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- the changelist --------------------------------------------------------------

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: ScheduledTask) -> str:
        return format_html(
            '<span class="bt-badge bt-status-{}" data-status="{}">{}</span>',
            obj.status,
            obj.status,
            obj.get_status_display(),
        )

    @admin.display(description="scheduled for", ordering="scheduled_for")
    def scheduled(self, obj: ScheduledTask) -> str:
        moment = obj.scheduled_for
        return format_html(
            '<time datetime="{}" class="bt-when">{}</time>'
            '<br><span class="bt-relative">{}</span>',
            moment.isoformat(),
            local_text(moment),
            # Seconds near now ("10 seconds from now"), minutes and days further out.
            naturaltime(moment),
        )

    @admin.display(description="created by", ordering="created_by")
    def creator(self, obj: ScheduledTask) -> str:
        if obj.created_by is not None:
            return obj.created_by.get_username()
        return obj.get_created_via_display()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # A whole UUID finds that run; any other term is part of a task name.
        term = search_term.strip()
        if not term:
            return queryset, False
        task_id = parse_task_id(term.lower())
        if task_id is not None:
            return queryset.filter(pk=task_id), False
        return queryset.filter(task_name__icontains=term), False

    # --- the change view -------------------------------------------------------------

    @admin.display(description="kwargs")
    def kwargs_pretty(self, obj: ScheduledTask) -> str:
        return pretty_json(obj.kwargs)

    @admin.display(description="result")
    def result_pretty(self, obj: ScheduledTask) -> str:
        return "-" if obj.result is None else pretty_json(obj.result)

    @admin.display(description="error")
    def error_details(self, obj: ScheduledTask) -> str:
        if not obj.error:
            return "-"
        last_line = obj.error.strip().splitlines()[-1]
        return format_html(
            '<details class="bt-error"><summary>{}</summary><pre>{}</pre></details>',
            last_line,
            obj.error,
        )

    @admin.display(description="requeue of")
    def requeued_from_link(self, obj: ScheduledTask) -> str:
        if obj.requeued_from_id is None:
            return "-"
        return format_html(
            '<a class="bt-requeued-from" href="{}">{}</a>',
            change_url(obj.requeued_from_id),
            obj.requeued_from_id,
        )

    @admin.display(description="requeued as")
    def requeues_links(self, obj: ScheduledTask) -> str:
        requeues = list(
            obj.requeues.order_by("created_at").values_list("pk", flat=True)
        )
        if not requeues:
            return "-"
        return format_html_join(
            ", ",
            '<a class="bt-requeue" href="{}">{}</a>',
            ((change_url(pk), pk) for pk in requeues),
        )

    # --- scheduling and operations ---------------------------------------------------

    def get_urls(self):
        operations = self.admin_site.admin_view(self.operations)
        return [
            path("operations/", operations, name="scheduling_scheduledtask_operations"),
            *super().get_urls(),
        ]

    def operations(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return operations_view(self, request)

    def add_view(self, request, form_url="", extra_context=None):
        """Schedule runs of a registered task, as POST /schedule does."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ScheduleTaskForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            runs = self.schedule_from_form(request, form)
            if runs is not None:
                self.message_user(request, scheduled_text(runs), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:scheduling_scheduledtask_changelist")
                )
        return self.schedule_form_response(request, form)

    def schedule_from_form(
        self, request: HttpRequest, form: ScheduleTaskForm
    ) -> list[ScheduledTask] | None:
        """The new runs, or None with the service's refusal put on the form."""
        try:
            return schedule_task(
                task_name=form.cleaned_data["task_name"],
                kwargs=form.cleaned_data["kwargs"],
                run_times=form.run_times_or_none,
                actor=Actor.for_user(request.user, Interface.ADMIN),
            )
        except (InvalidSchedule, UnknownTask) as exc:
            form.add_service_errors(exc.detail)
        except BacktickError as exc:
            self.message_user(request, str(exc.detail), messages.ERROR)
        return None

    def schedule_form_response(
        self, request: HttpRequest, form: ScheduleTaskForm
    ) -> TemplateResponse:
        tasks = [
            {
                "name": name,
                "queue": task.queue,
                "signature": signature_text(task),
                "parameters": describe_parameters(task),
                "doc": (task.func.__doc__ or "").strip().splitlines()[:1],
            }
            for name, task in registered_tasks().items()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Schedule a task",
            "opts": self.model._meta,
            "form": form,
            "tasks": tasks,
            "media": self.media + form.media,
            "time_zone": timezone.get_current_timezone_name(),
            "now_local": local_text(timezone.now()),
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(
            request, "admin/scheduling/scheduledtask/schedule_form.html", context
        )


def scheduled_text(runs: list[ScheduledTask]) -> str:
    ids = [str(run.pk) for run in runs]
    shown = ", ".join(ids[:IDS_SHOWN])
    more = f" and {len(ids) - IDS_SHOWN:,} more" if len(ids) > IDS_SHOWN else ""
    noun = "run" if len(runs) == 1 else "runs"
    return f"Scheduled {len(runs):,} {noun} of {runs[0].task_name}: {shown}{more}."
