"""Registered tasks: what a client may schedule, under which name, with which job options.

A task is a keyword-only function decorated with :func:`task`, which keeps the rq job
options next to the code. ``settings.BACKTICK_TASKS`` maps each public name to the
dotted path of a task; names sent by clients are looked up there and nowhere else.
"""

from __future__ import annotations

import inspect
import json
import math
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from rq import Retry

from .exceptions import UnknownTask


@dataclass(frozen=True)
class Task:
    """A function together with the rq options every run of it gets."""

    func: Callable[..., Any]
    queue: str = "default"
    timeout: int | None = None
    result_ttl: int | None = None
    ttl: int | None = None
    failure_ttl: int | None = None
    retry: Retry | None = None
    on_success: Callable[..., Any] | None = None
    on_failure: Callable[..., Any] | None = None
    on_stopped: Callable[..., Any] | None = None
    description: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __call__(self, **kwargs: Any) -> Any:
        return self.func(**kwargs)

    @property
    def path(self) -> str:
        """The dotted path rq imports in the worker; the module attribute is this object."""
        return f"{self.func.__module__}.{self.func.__qualname__}"

    @property
    def signature(self) -> inspect.Signature:
        return inspect.signature(self.func)

    def type_hints(self) -> dict[str, Any]:
        try:
            return typing.get_type_hints(self.func)
        except Exception:  # noqa: BLE001 - an unresolvable hint only disables type checks
            return {}

    def retry_policy(self) -> dict[str, Any] | None:
        if self.retry is None:
            return None
        return {"max": self.retry.max, "intervals": list(self.retry.intervals)}


def task(
    *,
    queue: str = "default",
    timeout: int | None = None,
    result_ttl: int | None = None,
    ttl: int | None = None,
    failure_ttl: int | None = None,
    retry: Retry | None = None,
    on_success: Callable[..., Any] | None = None,
    on_failure: Callable[..., Any] | None = None,
    on_stopped: Callable[..., Any] | None = None,
    description: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Task]:
    """Turn a keyword-only function into a task carrying its rq job options."""

    def wrap(func: Callable[..., Any]) -> Task:
        return Task(
            func=func,
            queue=queue,
            timeout=timeout,
            result_ttl=result_ttl,
            ttl=ttl,
            failure_ttl=failure_ttl,
            retry=retry,
            on_success=on_success,
            on_failure=on_failure,
            on_stopped=on_stopped,
            description=description,
            meta=dict(meta or {}),
        )

    return wrap


def task_paths() -> dict[str, str]:
    return dict(getattr(settings, "BACKTICK_TASKS", {}))


def get_task(name: str) -> Task:
    """Return the task registered under ``name``; raise UnknownTask otherwise."""
    path = task_paths().get(name) if isinstance(name, str) else None
    if path is None:
        raise UnknownTask(name)

    found = import_string(path)
    if not isinstance(found, Task):
        raise UnknownTask(name)
    return found


def registered_tasks() -> dict[str, Task]:
    """Every registered task by public name, in the order of the settings."""
    return {name: get_task(name) for name in task_paths()}


def signature_problems(func: Callable[..., Any]) -> list[str]:
    """Why ``func`` cannot be called with keyword arguments only; empty when it can."""
    problems = []
    for parameter in inspect.signature(func).parameters.values():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            problems.append(f"parameter '{parameter.name}' is not keyword-only")
    return problems


# Python types a JSON value may have for each simple annotation. bool is a subclass of
# int, so it is excluded explicitly where JSON would call it a different type.
JSON_TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
    type(None): "null",
}


def _matches(value: Any, annotation: Any) -> bool | None:
    """True or False when ``annotation`` is simple enough to judge, None otherwise."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        verdicts = [_matches(value, arg) for arg in typing.get_args(annotation)]
        if any(verdicts):
            return True
        return None if None in verdicts else False
    if origin in (dict, list):
        annotation = origin
    if annotation is type(None) or annotation is None:
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation in (str, dict, list):
        return isinstance(value, annotation)
    return None


def _expected(annotation: Any) -> str:
    args = (
        typing.get_args(annotation) if typing.get_origin(annotation) else (annotation,)
    )
    names = []
    for arg in args:
        arg = typing.get_origin(arg) or arg
        names.append(JSON_TYPE_NAMES.get(arg, getattr(arg, "__name__", str(arg))))
    return " or ".join(names)


def kwargs_problems(task: Task, kwargs: dict[str, Any]) -> dict[str, list[str]]:
    """Check ``kwargs`` against the task's signature: unknown, missing, mistyped names."""
    parameters = task.signature.parameters
    hints = task.type_hints()
    problems: dict[str, list[str]] = {}

    for name in kwargs:
        if name not in parameters:
            problems[name] = [
                f"Unknown parameter; the task accepts: {_names(parameters)}."
            ]
    for name, parameter in parameters.items():
        if name not in kwargs:
            if parameter.default is inspect.Parameter.empty:
                problems[name] = ["This parameter is required."]
            continue
        annotation = hints.get(name, parameter.annotation)
        if annotation is inspect.Parameter.empty:
            continue
        if _matches(kwargs[name], annotation) is False:
            problems[name] = [f"Expected {_expected(annotation)}."]
    return problems


def _names(parameters: Iterable[str]) -> str:
    names = list(parameters)
    return ", ".join(names) if names else "no parameters"


def describe_parameters(task: Task) -> list[dict[str, Any]]:
    """The task's parameters as the registered-tasks endpoint shows them."""
    hints = task.type_hints()
    described = []
    for name, parameter in task.signature.parameters.items():
        annotation = hints.get(name, parameter.annotation)
        required = parameter.default is inspect.Parameter.empty
        described.append(
            {
                "name": name,
                "required": required,
                "annotation": _annotation_text(annotation),
                "default": None if required else parameter.default,
            }
        )
    return described


def _annotation_text(annotation: Any) -> str | None:
    if annotation is inspect.Parameter.empty:
        return None
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


# Limits on what a run's kwargs may hold, so that every accepted value can be stored in
# PostgreSQL and Redis and shown again in the API and the admin.
MAX_KWARGS_DEPTH = 32


def kwargs_storage_problem(kwargs: dict[str, Any], *, max_chars: int) -> str | None:
    """Why ``kwargs`` cannot be stored as they are, or None when they can.

    Refuses text that is not valid Unicode (a lone surrogate), NUL characters (which
    PostgreSQL text cannot hold), numbers that JSON cannot write (an overflowing 1e999,
    NaN), nesting deeper than MAX_KWARGS_DEPTH, and more than
    ``max_chars`` characters of JSON. Walks the value without recursion, so a hostile
    depth cannot exhaust the stack.
    """
    pending: list[tuple[Any, int]] = [(kwargs, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_KWARGS_DEPTH:
            return f"Nested deeper than {MAX_KWARGS_DEPTH} levels."
        if isinstance(value, dict):
            for key, item in value.items():
                problem = _text_problem(key)
                if problem:
                    return problem
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                return problem
        elif isinstance(value, float) and not math.isfinite(value):
            return "Contains a number out of range (infinite or not a number)."

    size = len(json.dumps(kwargs))
    if size > max_chars:
        return f"{size:,} characters of JSON; at most {max_chars:,} are accepted."
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "Contains a NUL character, which cannot be stored."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Contains text that is not valid Unicode (a lone surrogate)."
    return None
