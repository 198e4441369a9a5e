"""The operations page's SVG charts and the selectors that count runs for them."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scheduling import selectors
from scheduling.charts import Series, bar_chart, stacked_bar_chart
from scheduling.models import Interface, ScheduledTask, TaskStatus

SVG = "{http://www.w3.org/2000/svg}"


def bars(svg: str) -> list[ElementTree.Element]:
    root = ElementTree.fromstring(svg)
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("data-value")]


# --- charts --------------------------------------------------------------------------


def test_bar_chart__bar_heights_follow_the_values():
    svg = bar_chart(chart_id="c", title="t", labels=["a", "b", "c"], values=[2, 0, 4])

    drawn = bars(svg)

    assert [(b.get("data-label"), b.get("data-value")) for b in drawn] == [
        ("a", "2"),
        ("c", "4"),
    ]
    low, high = (float(b.get("height")) for b in drawn)
    assert high == pytest.approx(2 * low)
    assert ElementTree.fromstring(svg).get("id") == "c"


def test_bar_chart__all_zero_draws_no_bar():
    svg = bar_chart(chart_id="c", title="t", labels=["a", "b"], values=[0, 0])

    assert bars(svg) == []
    assert "<title" in svg


def test_bar_chart__escapes_every_text():
    svg = bar_chart(
        chart_id='x"><script>', title="<b>t</b>", labels=["<i>"], values=[1]
    )

    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "&lt;i&gt;" in svg
    ElementTree.fromstring(svg)


def test_stacked_bar_chart__stacks_series_in_order_with_a_legend():
    svg = stacked_bar_chart(
        chart_id="s",
        title="t",
        labels=["h1"],
        series=[
            Series("Finished", [3], "bt-bar ok"),
            Series("Failed", [1], "bt-bar ko"),
        ],
    )

    ok, ko = bars(svg)
    assert float(ok.get("y")) > float(ko.get("y"))  # the second sits on the first
    assert float(ok.get("height")) == pytest.approx(3 * float(ko.get("height")))
    assert re.findall(r'class="bt-legend"[^>]*>(\w+)<', svg) == ["Finished", "Failed"]


def test_stacked_bar_chart__refuses_a_series_of_the_wrong_length():
    with pytest.raises(ValueError, match="has 1 values for 2 labels"):
        stacked_bar_chart(
            chart_id="s", title="t", labels=["a", "b"], series=[Series("x", [1])]
        )


# --- selectors -----------------------------------------------------------------------


def make_row(status: str, *, due: datetime, ended: datetime | None = None) -> None:
    ScheduledTask.objects.create(
        id=uuid.uuid4(),
        task_name="do_something",
        queue="default",
        status=status,
        scheduled_for=due,
        ended_at=ended,
        created_via=Interface.API,
    )


NOW = datetime(2030, 6, 1, 10, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_upcoming_runs_per_hour__counts_pending_runs_in_local_hours(settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # +05:30: local hours start at :30 UTC
    make_row(TaskStatus.SCHEDULED, due=NOW + timedelta(minutes=5))
    make_row(TaskStatus.QUEUED, due=NOW + timedelta(minutes=20))
    make_row(TaskStatus.SCHEDULED, due=NOW + timedelta(hours=2, minutes=1))
    make_row(TaskStatus.CANCELED, due=NOW + timedelta(minutes=5))
    make_row(TaskStatus.SCHEDULED, due=NOW + timedelta(days=2))

    with CaptureQueriesContext(connection) as queries:
        hours = selectors.upcoming_runs_per_hour(now=NOW)

    assert len(queries) == 1
    assert len(hours) == 24
    assert hours[0] == (timezone.localtime(NOW), 2)
    assert hours[0][0].strftime("%H:%M") == "16:00"
    assert [count for _, count in hours[1:3]] == [0, 1]
    assert sum(count for _, count in hours) == 3


@pytest.mark.django_db
def test_upcoming_runs_per_day__counts_by_local_day(settings):
    settings.TIME_ZONE = "America/New_York"
    make_row(TaskStatus.SCHEDULED, due=NOW + timedelta(hours=1))
    make_row(TaskStatus.SCHEDULED, due=NOW + timedelta(days=1))
    make_row(TaskStatus.SCHEDULED, due=NOW + timedelta(days=40))

    days = selectors.upcoming_runs_per_day(now=NOW)

    assert len(days) == 30
    assert days[0] == (timezone.localtime(NOW).date(), 1)
    assert days[1][1] == 1
    assert sum(count for _, count in days) == 2


@pytest.mark.django_db
def test_outcomes_per_hour__counts_final_statuses_by_hour_they_ended():
    for status in (TaskStatus.FINISHED, TaskStatus.FINISHED, TaskStatus.FAILED):
        make_row(status, due=NOW, ended=NOW - timedelta(minutes=10))
    make_row(TaskStatus.CANCELED, due=NOW, ended=NOW - timedelta(hours=3))
    make_row(TaskStatus.STOPPED, due=NOW, ended=NOW - timedelta(hours=30))

    hours = selectors.outcomes_per_hour(now=NOW)

    assert len(hours) == 24
    assert hours[-1] == (
        NOW.replace(minute=0),
        {"finished": 2, "failed": 1, "stopped": 0, "canceled": 0},
    )
    assert hours[-4][1]["canceled"] == 1
    assert sum(sum(counts.values()) for _, counts in hours) == 4
