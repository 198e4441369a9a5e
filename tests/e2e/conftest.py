"""Fixtures that run backtick's real processes against the test database and Redis.

The processes are separate programs that see only committed rows, so every fixture here
stands on ``transactional_db``; they reach the database pytest-django created through
DATABASE_URL and the test Redis through REDIS_URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from tests.processes import live_database_url

from .support import BacktickApi, Stack, Supervisor

SUPERVISOR_KEY = pytest.StashKey[Supervisor]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> pytest.TestReport:
    report = yield
    supervisor = item.stash.get(SUPERVISOR_KEY, None)
    if report.failed and supervisor is not None:
        report.sections.append(("backtick process logs", supervisor.log_tails()))
    return report


@pytest.fixture
def redis_url() -> str:
    """The Redis the processes use; a test module may point them at a server of its own."""
    return settings.REDIS_URL


@pytest.fixture
def process_env(transactional_db: None, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        # The production settings, not the test ones: the processes run as deployed.
        DJANGO_SETTINGS_MODULE="backtick_site.settings",
        DATABASE_URL=live_database_url(),
        REDIS_URL=redis_url,
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    return env


@pytest.fixture
def supervisor(
    request: pytest.FixtureRequest, tmp_path: Path, process_env: dict[str, str]
) -> Iterator[Supervisor]:
    supervisor = Supervisor(log_dir=tmp_path / "logs", env=process_env)
    # Read by pytest_runtest_makereport to attach the processes' logs to a failure.
    request.node.stash[SUPERVISOR_KEY] = supervisor
    yield supervisor
    supervisor.stop_all()


@pytest.fixture
def api_token(transactional_db: None) -> str:
    user = get_user_model().objects.create_user(
        username="e2e-client", password="e2e-pass-1"
    )
    return Token.objects.create(user=user).key


@pytest.fixture
def stack(supervisor: Supervisor, api_token: str) -> Stack:
    """Web, worker and scheduler, started side by side, each answering or registered."""
    known_schedulers = supervisor.scheduler_keys()
    web, base_url = supervisor.spawn_web()
    worker = supervisor.spawn_worker()
    scheduler = supervisor.spawn_scheduler()

    supervisor.wait_for_web(web, base_url)
    supervisor.wait_for_worker(worker)
    supervisor.wait_for_scheduler(scheduler, known_schedulers)
    return Stack(supervisor, BacktickApi(base_url, api_token), web, worker, scheduler)
