"""Runs made for the tests, through the same service as every interface."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from scheduling.actors import Actor
from scheduling.models import ScheduledTask
from scheduling.services import schedule_task

CREATOR = Actor.command("tests")


def make_run(
    task_name: str = "do_something", *, due_in: float | None = None, **kwargs
) -> ScheduledTask:
    """One run of ``task_name``: scheduled ``due_in`` seconds ahead, or queued now.

    ``kwargs`` are the task's; do_something gets how_long=0 unless told otherwise.
    """
    kwargs = kwargs or ({"how_long": 0} if task_name == "do_something" else {})
    run_times = None if due_in is None else [timezone.now() + timedelta(seconds=due_in)]
    [run] = schedule_task(
        task_name=task_name, kwargs=kwargs, run_times=run_times, actor=CREATOR
    )
    return run
