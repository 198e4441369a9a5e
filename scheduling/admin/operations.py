"""The operations page: queues, workers, the scheduler, and charts of runs at a glance."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from .. import selectors
from ..charts import Series, bar_chart, stacked_bar_chart
from ..exceptions import RedisUnavailable


def operations_view(model_admin: Any, request: HttpRequest) -> TemplateResponse:
    """Render the page; without Redis, show the charts and say what is missing."""
    now = timezone.now()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Operations",
        "opts": model_admin.model._meta,
        "media": model_admin.media,
        "time_zone": timezone.get_current_timezone_name(),
        "now": now,
        "redis_available": True,
        **charts_context(now),
    }
    try:
        context["queues"], context["schedule_size"] = selectors.queue_stats()
        context["workers"] = selectors.worker_states()
        context["schedulers"] = selectors.scheduler_states()
    except RedisUnavailable as exc:
        context["redis_available"] = False
        model_admin.message_user(request, str(exc.detail), messages.ERROR)
    return TemplateResponse(request, "admin/scheduling/operations.html", context)


def charts_context(now) -> dict[str, Any]:
    hours = selectors.upcoming_runs_per_hour(now=now)
    days = selectors.upcoming_runs_per_day(now=now)
    outcomes = selectors.outcomes_per_hour(now=now)
    return {
        "upcoming_hours_total": sum(count for _, count in hours),
        "upcoming_days_total": sum(count for _, count in days),
        "outcomes_total": sum(sum(counts.values()) for _, counts in outcomes),
        "upcoming_hours_chart": bar_chart(
            chart_id="bt-chart-upcoming-hours",
            title="Runs due in the next 24 hours, per hour",
            labels=[slot.strftime("%H:00") for slot, _ in hours],
            values=[count for _, count in hours],
        ),
        "upcoming_days_chart": bar_chart(
            chart_id="bt-chart-upcoming-days",
            title="Runs due in the next 30 days, per day",
            labels=[day.strftime("%b %d") for day, _ in days],
            values=[count for _, count in days],
            label_every=2,
        ),
        "outcomes_chart": stacked_bar_chart(
            chart_id="bt-chart-outcomes",
            title="Runs that ended in the last 24 hours, per hour",
            labels=[slot.strftime("%H:00") for slot, _ in outcomes],
            series=[
                Series(
                    name=status.label,
                    values=[counts[status] for _, counts in outcomes],
                    css_class=f"bt-bar bt-outcome-{status.value}",
                )
                for status in selectors.OUTCOME_STATUSES
            ],
        ),
    }
