"""An operator works the admin in a real browser, against real web, worker and scheduler.

Every step ends with a screenshot under test-output/browser/<test name>/. The tests wait
on what the page shows, reloading it when the state changes in other processes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings
from playwright.sync_api import Locator, expect

from scheduling.jobs import SCHEDULE_KEY, BacktickJob
from scheduling.models import ScheduledTask
from tests.helpers import in_seconds, wait_until

from ..support import Stack
from .conftest import Operator

pytestmark = pytest.mark.e2e

CHANGELIST = "/admin/scheduling/scheduledtask/"
ADD = f"{CHANGELIST}add/"
# How long a run that is due, or was sent to its queue, may take to show as ended.
RUN_TIMEOUT = 20


# --- helpers -------------------------------------------------------------------------


def local_run_time(moment: datetime) -> str:
    """``moment`` as an operator types it in the run-times field: TIME_ZONE, no offset."""
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%d %H:%M:%S")


def fill_schedule_form(
    operator: Operator, task_name: str, kwargs: str, run_times: list[datetime]
) -> None:
    page = operator.page
    page.select_option("#id_task_name", task_name)
    page.fill("#id_kwargs", kwargs)
    page.fill("#id_run_times", "\n".join(local_run_time(when) for when in run_times))


def submit_schedule_form(operator: Operator) -> None:
    with operator.page.expect_navigation():
        operator.page.click("#bt-schedule-submit")


def badge(operator: Operator, task_id: str) -> Locator:
    """The status badge in the changelist row of ``task_id``."""
    row = operator.page.locator("#result_list tr").filter(
        has=operator.page.locator(f'input.action-select[value="{task_id}"]')
    )
    return row.locator("span.bt-badge")


def run_action(operator: Operator, task_ids: list[str], action: str) -> None:
    """Tick the rows of ``task_ids`` in the changelist and apply ``action`` to them."""
    page = operator.page
    for task_id in task_ids:
        page.check(f'input.action-select[value="{task_id}"]')
    page.select_option("select[name=action]", action)
    with page.expect_navigation():
        page.click("button[name=index]")


def wait_for_badge(
    operator: Operator, task_id: str, status: str, *, timeout: float = RUN_TIMEOUT
) -> None:
    """Reload the changelist until the badge of ``task_id`` says ``status``."""

    def shows_status() -> bool:
        operator.open(CHANGELIST)
        return badge(operator, task_id).get_attribute("data-status") == status

    wait_until(shows_status, timeout=timeout, interval=0.5, what=f"{task_id} {status}")
    expect(badge(operator, task_id)).to_have_class(re.compile(f"bt-status-{status}"))


def success_messages(operator: Operator) -> Locator:
    return operator.page.locator("ul.messagelist li.success")


def history_row(operator: Operator, kind: str) -> Locator:
    """The row of the change view's history inline for the event of ``kind``."""
    return operator.page.locator(".bt-history tbody tr").filter(
        has=operator.page.locator("td.field-kind", has_text=kind)
    )


def page_status(operator: Operator) -> Locator:
    """The status badge of the change view."""
    return operator.page.locator("div.field-status_badge span.bt-badge")


@pytest.fixture
def redis_connection() -> Iterator[redis.Redis]:
    """A client of the Redis the live processes use (the test index)."""
    connection = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    yield connection
    connection.close()


# --- scheduling and canceling --------------------------------------------------------


def test_operator_schedules_a_run_then_cancels_it(
    operator: Operator, stack: Stack, redis_connection: redis.Redis
) -> None:
    page = operator.page
    operator.open(ADD)
    expect(page.locator("#bt-schedule-form")).to_be_visible()
    fill_schedule_form(operator, "do_something", '{"how_long": 1}', [in_seconds(60)])
    operator.shot("form-filled")

    submit_schedule_form(operator)
    task = ScheduledTask.objects.get()
    task_id = str(task.pk)
    expect(success_messages(operator)).to_contain_text(task_id)
    expect(badge(operator, task_id)).to_have_attribute("data-status", "scheduled")
    operator.shot("scheduled-in-changelist")
    assert task.kwargs == {"how_long": 1}
    assert task.created_via == "admin"
    assert redis_connection.zscore(SCHEDULE_KEY, task_id) is not None

    run_action(operator, [task_id], "cancel_selected")
    expect(success_messages(operator)).to_contain_text("Canceled 1 task.")
    expect(badge(operator, task_id)).to_have_attribute("data-status", "canceled")
    expect(badge(operator, task_id)).to_have_class(re.compile("bt-status-canceled"))
    operator.shot("canceled-in-changelist")

    job_key = BacktickJob.key_for(task_id)
    assert redis_connection.zscore(SCHEDULE_KEY, task_id) is None
    assert redis_connection.hget(job_key, "status") == b"canceled"
    assert 0 < redis_connection.ttl(job_key) <= 24 * 3600
    assert stack.api.task(task_id)["status"] == "canceled"


# --- running now ---------------------------------------------------------------------


def test_operator_runs_a_scheduled_task_now_and_sees_it_finish(
    operator: Operator, stack: Stack
) -> None:
    [task_id] = stack.api.schedule(
        "do_something", at=[in_seconds(3600)], kwargs={"how_long": 1}
    )
    operator.open(CHANGELIST)
    expect(badge(operator, task_id)).to_have_attribute("data-status", "scheduled")
    operator.shot("scheduled-in-changelist")

    run_action(operator, [task_id], "run_now_selected")
    expect(success_messages(operator)).to_contain_text("Queued 1 task to run now.")
    operator.shot("sent-to-queue")

    wait_for_badge(operator, task_id, "finished")
    operator.shot("finished-in-changelist")

    operator.open(f"{CHANGELIST}{task_id}/change/")
    expect(page_status(operator)).to_have_attribute("data-status", "finished")
    enqueued = history_row(operator, "Enqueued")
    expect(enqueued).to_have_count(1)
    expect(enqueued.locator("td.field-actor")).to_have_text("operator")
    expect(enqueued.locator("td.field-interface")).to_have_text("Admin")
    expect(history_row(operator, "Finished")).to_have_count(1)
    expect(
        operator.page.locator("div.field-result_pretty pre.bt-json")
    ).to_contain_text("Did something for 1 seconds")
    operator.page.locator(".bt-history").scroll_into_view_if_needed()
    operator.shot("change-view-history")


# --- refusing bad input --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param('{"how_long": "five"}', "how_long: ", id="wrong_type"),
        pytest.param('{"how_long": 1', "Enter valid JSON", id="invalid_json"),
    ],
)
def test_schedule_form__refuses_bad_kwargs_and_schedules_nothing(
    operator: Operator, redis_connection: redis.Redis, kwargs: str, error: str
) -> None:
    page = operator.page
    operator.open(ADD)
    fill_schedule_form(operator, "do_something", kwargs, [in_seconds(600)])
    operator.shot("form-filled")

    submit_schedule_form(operator)

    expect(page.locator("#bt-schedule-form p.errornote")).to_contain_text(
        "Nothing was scheduled"
    )
    errors = page.locator("#bt-field-kwargs #bt-errors-kwargs")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text(error)
    # The operator's text is kept, so that it can be corrected.
    expect(page.locator("#id_kwargs")).to_have_value(kwargs)
    expect(page.locator("#bt-errors-run_times")).to_have_count(0)
    operator.shot("kwargs-error")
    assert not ScheduledTask.objects.exists()
    assert redis_connection.zcard(SCHEDULE_KEY) == 0


# --- the operations page -------------------------------------------------------------


def bar_values(operator: Operator, chart_id: str) -> list[int]:
    bars = operator.page.locator(f"#{chart_id} rect[data-value]")
    return [
        int(value) for value in bars.evaluate_all("bs => bs.map(b => b.dataset.value)")
    ]


def test_operations_page_draws_charts_and_shows_live_processes(
    operator: Operator, stack: Stack
) -> None:
    soon, later = in_seconds(3600), in_seconds(2 * 24 * 3600)
    stack.api.schedule(
        "do_something", at=[soon, soon + timedelta(seconds=1)], kwargs={"how_long": 1}
    )
    stack.api.schedule("do_something", at=[later], kwargs={"how_long": 1})
    [done_id] = stack.api.schedule("do_something", at=[], kwargs={"how_long": 0})
    assert stack.api.wait_until_final(done_id, timeout=RUN_TIMEOUT)["status"] == (
        "finished"
    )
    requests: list[str] = []
    operator.page.on("request", lambda request: requests.append(request.url))

    operator.open("/admin/")
    with operator.page.expect_navigation():
        operator.page.click("#bt-operations-link")
    operator.shot("operations")

    page = operator.page
    assert page.url == f"{stack.api.base_url}{CHANGELIST}operations/"
    for chart_id in [
        "bt-chart-upcoming-hours",
        "bt-chart-upcoming-days",
        "bt-chart-outcomes",
    ]:
        chart = page.locator(f"svg#{chart_id}")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, (chart_id, box)
    assert max(bar_values(operator, "bt-chart-upcoming-hours")) >= 1
    assert sum(bar_values(operator, "bt-chart-upcoming-hours")) == 2
    assert sum(bar_values(operator, "bt-chart-upcoming-days")) == 3
    assert sum(bar_values(operator, "bt-chart-outcomes")) >= 1
    expect(page.locator("#bt-figure-upcoming-hours figcaption")).to_contain_text(
        "2 runs"
    )

    worker = page.locator(
        f'#bt-workers tr.bt-worker[data-worker="{stack.worker.rq_name}"]'
    )
    expect(worker).to_have_count(1)
    expect(page.locator("#bt-schedulers tr.bt-scheduler")).to_have_attribute(
        "data-alive", "yes"
    )
    page.locator("#bt-workers").scroll_into_view_if_needed()
    operator.shot("workers-and-scheduler")
    strangers = [url for url in requests if not url.startswith(stack.api.base_url)]
    assert requests and not strangers, strangers


# --- requeueing ----------------------------------------------------------------------


def test_operator_requeues_a_failed_run(operator: Operator, stack: Stack) -> None:
    [failed_id] = stack.api.schedule("raise_exception", at=[])
    # Three retries, two seconds apart, before the run fails for good.
    failed = stack.api.wait_until_final(failed_id, timeout=RUN_TIMEOUT)
    assert failed["status"] == "failed"

    operator.open(CHANGELIST)
    expect(badge(operator, failed_id)).to_have_attribute("data-status", "failed")
    operator.shot("failed-in-changelist")

    run_action(operator, [failed_id], "requeue_selected")
    requeue = ScheduledTask.objects.get(requeued_from_id=failed_id)
    requeue_id = str(requeue.pk)
    expect(success_messages(operator)).to_have_text(
        f"Requeued 1 task as new runs: {requeue_id}."
    )
    expect(badge(operator, requeue_id)).to_be_visible()
    operator.shot("requeued-message")

    operator.open(f"{CHANGELIST}{failed_id}/change/")
    page = operator.page
    expect(page.locator("details.bt-error summary")).to_contain_text(
        "ValueError: This is an exception"
    )
    expect(history_row(operator, "Requeued")).to_have_count(1)
    link = page.locator("a.bt-requeue")
    expect(link).to_have_text(requeue_id)
    operator.shot("original-links-its-requeue")

    with page.expect_navigation():
        link.click()
    back = page.locator("a.bt-requeued-from")
    expect(back).to_have_text(failed_id)
    expect(back).to_have_attribute("href", re.compile(f"{failed_id}/change/$"))
    operator.shot("requeue-links-its-original")
