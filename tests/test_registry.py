from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from scheduling.checks import check_task_registry
from scheduling.exceptions import UnknownTask
from scheduling.registry import get_task, registered_tasks
from tests.sample_tasks import TEST_TASKS


def error_ids(**tasks):
    with override_settings(BACKTICK_TASKS=tasks):
        return [(error.id, error.msg) for error in check_task_registry()]


def test_registry__shipped_tasks_pass_the_checks():
    assert check_task_registry() == []
    assert set(registered_tasks()) == {
        "do_something",
        "raise_exception",
        "raise_exception_again",
        "make_request",
    }


@override_settings(BACKTICK_TASKS=TEST_TASKS)
def test_registry__test_tasks_pass_the_checks():
    assert check_task_registry() == []


@pytest.mark.parametrize(
    ("path", "error_id", "fragment"),
    [
        ("tests.sample_tasks.missing", "backtick.E001", "cannot import"),
        ("no_such_module.task", "backtick.E001", "cannot import"),
        ("tests.sample_tasks.not_a_task", "backtick.E002", "is not a task"),
        (
            "tests.sample_tasks.positional",
            "backtick.E003",
            "'name' is not keyword-only",
        ),
    ],
)
def test_registry__broken_entries_are_reported_at_start(path, error_id, fragment):
    [(found_id, message)] = error_ids(broken=path)

    assert found_id == error_id
    assert fragment in message
    assert "'broken'" in message


def test_registry__task_on_an_unconfigured_queue_is_reported(settings):
    settings.RQ_QUEUES = {"default": settings.RQ_QUEUES["default"]}

    ids = [error.id for error in check_task_registry()]

    assert ids == ["backtick.E004"]


def test_registry__check_command_fails_on_a_broken_registry():
    with override_settings(BACKTICK_TASKS={"broken": "tests.sample_tasks.not_a_task"}):
        with pytest.raises(SystemCheckError, match="backtick.E002"):
            call_command("check")


@override_settings(BACKTICK_TASKS={"sneaky": "tests.sample_tasks.not_a_task"})
def test_registry__a_registered_non_task_is_never_returned():
    with pytest.raises(UnknownTask):
        get_task("sneaky")


@pytest.mark.parametrize(
    "name", [None, 3, "tasks.examples.do_something", "do_something "]
)
def test_registry__only_registered_names_resolve(name):
    with pytest.raises(UnknownTask):
        get_task(name)
