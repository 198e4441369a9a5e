"""Tasks that exist only for the tests; registered with override_settings(BACKTICK_TASKS=...)."""

from __future__ import annotations

from rq import Retry

from scheduling.registry import task


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque thing>"


@task(queue="default", result_ttl=600)
def return_opaque() -> Opaque:
    return Opaque()


@task(queue="default", result_ttl=600)
def return_huge(*, size: int) -> str:
    return "x" * size


@task(queue="default", result_ttl=600)
def typed(
    *,
    count: int,
    ratio: float = 1.0,
    label: str = "",
    flag: bool = False,
    extra: dict | None = None,
) -> dict:
    return {"count": count}


@task(queue="default", result_ttl=600, retry=Retry(max=2, interval=[1, 3]))
def fail_with_retries() -> None:
    raise RuntimeError("planned failure")


@task(queue="another")
def positional(name):  # deliberately not keyword-only
    return name


def not_a_task(*, name: str) -> str:
    return name


TEST_TASKS = {
    "do_something": "tasks.examples.do_something",
    "raise_exception": "tasks.examples.raise_exception",
    "return_opaque": "tests.sample_tasks.return_opaque",
    "return_huge": "tests.sample_tasks.return_huge",
    "typed": "tests.sample_tasks.typed",
    "fail_with_retries": "tests.sample_tasks.fail_with_retries",
}
