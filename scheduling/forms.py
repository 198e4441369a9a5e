"""Admin forms: schedule a registered task, and pick a new time for a reschedule.

Times are typed in the operator's time zone (settings.TIME_ZONE) and cleaned to aware
datetimes in UTC. The forms check what the services would refuse, so that the operator
sees each problem next to its field; the services check again when they are called.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import conf
from .exceptions import InvalidSchedule, UnknownTask
from .registry import (
    Task,
    describe_parameters,
    get_task,
    kwargs_problems,
    kwargs_storage_problem,
)
from .registry import registered_tasks as all_registered_tasks
from .services import validate_new_time, validate_run_times


def local_text(moment: datetime) -> str:
    """A datetime as the operator reads it: in TIME_ZONE, with the zone's name."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def signature_text(task: Task) -> str:
    """The task's parameters with their types and defaults, as a call would read."""
    parts = []
    for parameter in describe_parameters(task):
        text = parameter["name"]
        if parameter["annotation"]:
            text += f": {parameter['annotation']}"
        if not parameter["required"]:
            text += f" = {json.dumps(parameter['default'])}"
        parts.append(text)
    return ", ".join(parts)


def task_choices() -> list[tuple[str, str]]:
    return [
        (name, f"{name}({signature_text(task)})")
        for name, task in all_registered_tasks().items()
    ]


def parse_local_datetime(text: str) -> datetime:
    """A datetime typed by the operator: naive means TIME_ZONE; returned in UTC.

    Raises ValidationError for a value that is not a datetime, or a local time that a
    change of daylight saving time skips or repeats.
    """
    try:
        return forms.DateTimeField().clean(text).astimezone(UTC)
    except OverflowError as exc:
        raise ValidationError(
            "Out of the range of datetimes.", code="out_of_range"
        ) from exc


class ScheduleTaskForm(forms.Form):
    """What POST /schedule takes, as an operator enters it in the admin."""

    task_name = forms.ChoiceField(label="Task", choices=task_choices)
    kwargs = forms.CharField(
        label="Keyword arguments (JSON)",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60, "spellcheck": "false"}),
        required=False,
        initial="{}",
        help_text='A JSON object, such as {"how_long": 5}. Empty means {}.',
    )
    run_now = forms.BooleanField(label="Run now", required=False)
    run_times = forms.CharField(
        label="Run times",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40, "spellcheck": "false"}),
        required=False,
        help_text="One per line, as YYYY-MM-DD HH:MM[:SS], in the time zone shown. "
        "A time with an offset (2030-01-31T09:00+05:30) is taken as it is.",
    )

    def clean_kwargs(self) -> dict[str, Any]:
        text = self.cleaned_data["kwargs"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                "Enter valid JSON: %(error)s.", params={"error": exc}, code="json"
            ) from exc
        except RecursionError as exc:
            raise ValidationError(
                "The JSON is nested too deeply.", code="json"
            ) from exc
        except ValueError as exc:
            # Python's own limits, such as integers of more than 4300 digits.
            raise ValidationError(
                "Enter valid JSON: %(error)s.", params={"error": exc}, code="json"
            ) from exc
        if not isinstance(value, dict):
            raise ValidationError(
                "Enter a JSON object, such as {}; got %(kind)s.",
                params={"kind": type(value).__name__},
                code="not_an_object",
            )
        problem = kwargs_storage_problem(
            value, max_chars=conf.get("BACKTICK_MAX_KWARGS_CHARS")
        )
        if problem:
            raise ValidationError(problem, code="unstorable")
        return value

    def clean_run_times(self) -> list[datetime]:
        lines = [
            (number, line.strip())
            for number, line in enumerate(
                self.cleaned_data["run_times"].splitlines(), 1
            )
            if line.strip()
        ]
        run_times, problems = [], []
        for number, line in lines:
            try:
                run_times.append(parse_local_datetime(line))
            except ValidationError as exc:
                problems.append(f"Line {number} ({line}): {' '.join(exc.messages)}")
        if problems:
            raise ValidationError(problems)

        try:
            validate_run_times(run_times)
        except InvalidSchedule as exc:
            raise ValidationError(
                _run_time_problems(exc.detail["datetimes"], lines, run_times)
            ) from exc
        return run_times

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        run_now, run_times = cleaned.get("run_now"), cleaned.get("run_times")
        if run_now and run_times:
            self.add_error("run_times", "Leave the run times empty to run now.")
        elif not run_now and run_times == []:
            self.add_error("run_times", "Enter at least one run time, or tick Run now.")

        name, kwargs = cleaned.get("task_name"), cleaned.get("kwargs")
        if name and kwargs is not None:
            try:
                task = get_task(name)
            except UnknownTask:
                self.add_error("task_name", "This task is no longer registered.")
            else:
                self.add_kwargs_problems(kwargs_problems(task, kwargs))
        return cleaned

    def add_kwargs_problems(self, problems: dict[str, list[str]]) -> None:
        """Each problem as an error of the kwargs field that names its parameter."""
        for parameter, messages in problems.items():
            for message in messages:
                self.add_error("kwargs", f"{parameter}: {message}")

    def add_service_errors(self, detail: Any) -> None:
        """The detail of an InvalidSchedule raised by schedule_task, on its fields."""
        if not isinstance(detail, dict):
            self.add_error(None, str(detail))
            return
        if "kwargs" in detail:
            self.add_kwargs_problems(detail["kwargs"])
        if "datetimes" in detail:
            problems = detail["datetimes"]
            if isinstance(problems, dict):
                problems = [m for messages in problems.values() for m in messages]
            self.add_error("run_times", list(problems))
        if "task_name" in detail:
            self.add_error("task_name", list(detail["task_name"]))

    @property
    def run_times_or_none(self) -> list[datetime] | None:
        return None if self.cleaned_data["run_now"] else self.cleaned_data["run_times"]


def _run_time_problems(
    problems: Any, lines: list[tuple[int, str]], run_times: list[datetime]
) -> list[str]:
    if not isinstance(problems, dict):
        return list(problems)
    return [
        f"Line {lines[index][0]} ({local_text(run_times[index])}): {' '.join(messages)}"
        for index, messages in sorted(problems.items())
    ]


class RescheduleForm(forms.Form):
    """The new due time of the runs an operator reschedules."""

    run_at = forms.DateTimeField(
        label="New run time",
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "step": "1"},
            format="%Y-%m-%dT%H:%M:%S",
        ),
        help_text="In the time zone shown; the runs keep their ids.",
    )

    def clean_run_at(self) -> datetime:
        run_at = self.cleaned_data["run_at"]
        try:
            return validate_new_time(run_at, field_name="run_at")
        except InvalidSchedule as exc:
            raise ValidationError(
                [f"{local_text(run_at)}: {m}" for m in exc.detail["run_at"]]
            ) from exc
