"""The operator's actions on selected runs: filter, delegate to a service, report.

Every action hands all the selected ids to one service call, which pipelines Redis and
updates the rows in bulk, so thousands of rows take seconds. Rows whose status does not
allow the action are not sent; they are reported as skipped with their status, next to
the service's own skips (not found, no longer in Redis).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone

from ..actors import Actor
from ..exceptions import BacktickError
from ..forms import RescheduleForm, local_text
from ..models import FINAL_STATUSES, Interface, ScheduledTask, TaskStatus
from ..services import (
    ActionReport,
    cancel_tasks_reported,
    parse_task_id,
    requeue_tasks,
    reschedule_tasks,
    run_tasks_now,
    stop_tasks,
)
from ..services.control import ALLOWED_STATUSES, MISSING_IN_REDIS, NOT_FOUND
from ..services.control import UNKNOWN_TASK as UNKNOWN_TASK_REASON

# How many ids a message lists for each reason before it says "and N more".
IDS_SHOWN = 5

DONE_TEXT = {
    "cancel": "Canceled {count}.",
    "run_now": "Queued {count} to run now.",
    "reschedule": "Rescheduled {count} to {when}.",
    "requeue": "Requeued {count} as new runs: {ids}.",
    "stop": "Asked the workers to stop {count}.",
}


def reason_text(reason: str) -> str:
    """Why a row was skipped, as the end of 'N tasks ...'."""
    if reason == NOT_FOUND:
        return "not found"
    if reason == MISSING_IN_REDIS:
        return "not found in Redis"
    if reason == UNKNOWN_TASK_REASON:
        return "of a task no longer registered"
    if reason in FINAL_STATUSES or reason == TaskStatus.QUEUED:
        return f"already {reason}"
    if reason == TaskStatus.STARTED:
        return "running"
    return reason


def tasks_text(count: int) -> str:
    return f"{count:,} task" if count == 1 else f"{count:,} tasks"


def ids_text(ids: list[str]) -> str:
    shown = ", ".join(ids[:IDS_SHOWN])
    more = len(ids) - IDS_SHOWN
    return f"{shown} and {more:,} more" if more > 0 else shown


def skipped_text(skipped: dict[str, str]) -> str:
    """'Skipped 3 tasks: 2 already finished (a, b); 1 not found in Redis (c).'"""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for task_id, reason in skipped.items():
        by_reason[reason].append(task_id)
    groups = sorted(by_reason.items(), key=lambda item: (-len(item[1]), item[0]))
    described = "; ".join(
        f"{len(ids):,} {reason_text(reason)} ({ids_text(ids)})"
        for reason, ids in groups
    )
    return f"Skipped {tasks_text(len(skipped))}: {described}."


if TYPE_CHECKING:
    # What the mixin relies on from the ModelAdmin it is mixed into.
    _ModelAdmin = admin.ModelAdmin[ScheduledTask]
else:
    _ModelAdmin = object


class TaskActionsMixin(_ModelAdmin):
    """Admin actions on ScheduledTask rows, each gated by a custom permission."""

    actions = [
        "cancel_selected",
        "run_now_selected",
        "reschedule_selected",
        "requeue_selected",
        "stop_selected",
    ]

    def response_action(self, request: HttpRequest, queryset: QuerySet) -> Any:
        # A selection is only ever made of task ids; anything else is a forged form,
        # answered with a message rather than a failing UUID lookup.
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if any(parse_task_id(value) is None for value in selected):
            self.message_user(
                request,
                "The selection holds values that are not task ids.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    # --- permissions -----------------------------------------------------------------

    def _has_task_permission(self, request: HttpRequest, action: str) -> bool:
        opts = ScheduledTask._meta
        return request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return self._has_task_permission(request, "cancel")

    def has_run_now_permission(self, request: HttpRequest) -> bool:
        return self._has_task_permission(request, "run_now")

    def has_reschedule_permission(self, request: HttpRequest) -> bool:
        return self._has_task_permission(request, "reschedule")

    def has_requeue_permission(self, request: HttpRequest) -> bool:
        return self._has_task_permission(request, "requeue")

    def has_stop_permission(self, request: HttpRequest) -> bool:
        return self._has_task_permission(request, "stop")

    # --- actions ---------------------------------------------------------------------

    @admin.action(description="Cancel selected tasks", permissions=["cancel"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.apply_action(request, queryset, "cancel", cancel_tasks_reported)

    @admin.action(description="Run selected tasks now", permissions=["run_now"])
    def run_now_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.apply_action(request, queryset, "run_now", run_tasks_now)

    @admin.action(description="Reschedule selected tasks…", permissions=["reschedule"])
    def reschedule_selected(
        self, request: HttpRequest, queryset: QuerySet
    ) -> TemplateResponse | None:
        form = RescheduleForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            run_at = form.cleaned_data["run_at"]
            self.apply_action(
                request, queryset, "reschedule", reschedule_tasks, run_at=run_at
            )
            return None
        return self.reschedule_confirmation(request, queryset, form)

    @admin.action(description="Requeue selected tasks", permissions=["requeue"])
    def requeue_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.apply_action(request, queryset, "requeue", requeue_tasks)

    @admin.action(description="Stop selected running tasks", permissions=["stop"])
    def stop_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.apply_action(request, queryset, "stop", stop_tasks)

    # --- doing and reporting ---------------------------------------------------------

    def apply_action(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        action: str,
        service: Callable[..., ActionReport],
        **options: Any,
    ) -> ActionReport | None:
        """Send the rows the action applies to to ``service`` in one call; report.

        Returns the report, or None when the service raised a BacktickError, which is
        shown as an error message.
        """
        allowed = ALLOWED_STATUSES[action]
        rows = list(queryset.order_by().values_list("pk", "status"))
        eligible = [str(pk) for pk, status in rows if status in allowed]
        report = ActionReport(action)
        if eligible:
            actor = Actor.for_user(request.user, Interface.ADMIN)
            try:
                report = service(task_ids=eligible, actor=actor, **options)
            except BacktickError as exc:
                self.message_user(request, str(exc.detail), messages.ERROR)
                return None
        report.skipped.update(
            (str(pk), status) for pk, status in rows if status not in allowed
        )
        self.report_action(request, report, **options)
        return report

    def report_action(
        self, request: HttpRequest, report: ActionReport, **options: Any
    ) -> None:
        if report.done:
            text = DONE_TEXT[report.action].format(
                count=tasks_text(len(report.done)),
                when=local_text(options["run_at"]) if "run_at" in options else "",
                ids=ids_text(list(report.done.values())),
            )
            self.message_user(request, text, messages.SUCCESS)
        if report.skipped:
            self.message_user(request, skipped_text(report.skipped), messages.WARNING)

    def reschedule_confirmation(
        self, request: HttpRequest, queryset: QuerySet, form: RescheduleForm
    ) -> TemplateResponse:
        """The intermediate page that asks for the new time of the selected runs."""
        allowed = ALLOWED_STATUSES["reschedule"]
        context = {
            **self.admin_site.each_context(request),
            "title": "Reschedule tasks",
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "selected_count": queryset.count(),
            "eligible_count": queryset.filter(status__in=allowed).count(),
            "sample": list(queryset.filter(status__in=allowed)[:IDS_SHOWN]),
            "selected_ids": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "time_zone": timezone.get_current_timezone_name(),
        }
        return TemplateResponse(
            request, "admin/scheduling/scheduledtask/reschedule.html", context
        )
