"""The schedule lives in Redis only: with append-only persistence it must survive a restart
of the server, whether the server shuts down cleanly or is killed."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings

from scheduling.jobs import SCHEDULE_KEY, BacktickJob
from tests.helpers import in_seconds, wait_until

from .support import (
    BacktickApi,
    RedisServer,
    Supervisor,
    event_kinds,
    free_port,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, so that stopping it disturbs nobody else."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    # The same database index as the suite's Redis, on a server nobody else uses.
    kwargs = redis.Redis.from_url(settings.REDIS_URL).connection_pool.connection_kwargs
    server = RedisServer(
        port=free_port(),
        data_dir=tmp_path / "redis",
        log_path=tmp_path / "logs" / "redis-server.log",
        index=str(kwargs.get("db", 0)),
    )
    server.data_dir.mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(private_redis: RedisServer) -> str:
    return private_redis.url


def test_schedule_survives_redis_restart__after_shutdown(
    supervisor: Supervisor, api_token: str, private_redis: RedisServer
) -> None:
    check_schedule_survives_restart(
        supervisor, api_token, private_redis, signal.SIGTERM
    )


def test_schedule_survives_redis_restart__after_kill(
    supervisor: Supervisor, api_token: str, private_redis: RedisServer
) -> None:
    check_schedule_survives_restart(
        supervisor, api_token, private_redis, signal.SIGKILL
    )


def check_schedule_survives_restart(
    supervisor: Supervisor, api_token: str, server: RedisServer, signum: int
) -> None:
    api = BacktickApi(supervisor.start_web(), api_token)
    due = in_seconds(3)
    kept = api.schedule(
        "do_something",
        at=[due, due + timedelta(milliseconds=100)],
        kwargs={"how_long": 1},
    )
    # Due between the two kept runs: once both have run, its time has come and gone.
    [canceled_id] = api.schedule(
        "do_something", at=[due + timedelta(milliseconds=50)], kwargs={"how_long": 1}
    )
    assert api.unschedule([canceled_id])["task_ids"] == [canceled_id]

    # A clean shutdown exits 0; a kill leaves no chance to write anything more.
    assert server.stop(signum) == (0 if signum == signal.SIGTERM else -signum)
    server.start()

    client = server.client()
    assert {job_id.decode() for job_id in client.zrange(SCHEDULE_KEY, 0, -1)} == set(
        kept
    )
    assert client.hget(BacktickJob.key_for(canceled_id), "status") == b"canceled"
    client.close()
    # The web process outlived the restart; it must schedule through fresh connections.
    kept += api.schedule("do_something", at=[in_seconds(1)], kwargs={"how_long": 1})
    supervisor.start_worker()
    supervisor.start_scheduler()

    tasks = [api.wait_until_final(task_id, timeout=25) for task_id in kept]
    assert [task["status"] for task in tasks] == ["finished"] * 3
    assert [task["attempts"] for task in tasks] == [1] * 3
    canceled = api.task(canceled_id)
    assert canceled["status"] == "canceled"
    assert canceled["attempts"] == 0
    assert event_kinds(canceled) == ["scheduled", "canceled"]


def test_scheduler_and_worker_ride_out_a_redis_outage(
    supervisor: Supervisor, api_token: str, private_redis: RedisServer
) -> None:
    api = BacktickApi(supervisor.start_web(), api_token)
    worker = supervisor.start_worker()
    scheduler = supervisor.start_scheduler()

    private_redis.stop(signal.SIGKILL)
    # Long enough for the scheduler to fail several looks at the schedule.
    wait_until(
        lambda: "Redis unreachable" in scheduler.log_path.read_text(errors="replace"),
        timeout=10,
        what="the scheduler to notice the outage",
    )
    private_redis.start()

    [task_id] = api.schedule("do_something", at=[in_seconds(1)], kwargs={"how_long": 0})
    task = api.wait_until_final(task_id, timeout=25)
    assert task["status"] == "finished"
    Supervisor.assert_alive(scheduler)
    Supervisor.assert_alive(worker)
