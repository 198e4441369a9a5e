"""System checks that validate the task registry when Django starts."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

from .registry import Task, signature_problems, task_paths


@register()
def check_task_registry(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    queues = getattr(settings, "RQ_QUEUES", {})
    for name, path in task_paths().items():
        try:
            found = import_string(path)
        except ImportError as exc:
            errors.append(
                Error(
                    f"Task {name!r}: cannot import {path!r} ({exc}).",
                    hint="Fix the dotted path in BACKTICK_TASKS.",
                    id="backtick.E001",
                )
            )
            continue
        if not isinstance(found, Task):
            errors.append(
                Error(
                    f"Task {name!r}: {path!r} is not a task.",
                    hint="Decorate the function with scheduling.registry.task(...).",
                    id="backtick.E002",
                )
            )
            continue
        for problem in signature_problems(found.func):
            errors.append(
                Error(
                    f"Task {name!r}: {problem}.",
                    hint="Tasks take keyword-only arguments: def task(*, name: type).",
                    id="backtick.E003",
                )
            )
        if found.queue not in queues:
            errors.append(
                Error(
                    f"Task {name!r}: queue {found.queue!r} is not in RQ_QUEUES.",
                    id="backtick.E004",
                )
            )
    return errors
