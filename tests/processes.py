"""Real worker processes for tests, on this test run's database and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from rq.command import PUBSUB_CHANNEL_TEMPLATE

from scheduling.redis_keys import get_connection
from tests.helpers import wait_until

# Generous bounds for a worker process to start, pick a job up, or exit.
PROCESS_TIMEOUT = 30


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def live_database_url() -> str:
    """A DATABASE_URL for the database this session really uses, test_ prefix included."""
    assert connection.vendor == "postgresql", "the end-to-end suite runs on PostgreSQL"
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


def worker_env() -> dict[str, str]:
    """The environment of a worker that uses this test run's database and Redis."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": live_database_url(),
        "REDIS_URL": settings.RQ_QUEUES["default"]["URL"],
    }


def is_listening(name: str) -> bool:
    [(_, subscribers)] = get_connection().pubsub_numsub(PUBSUB_CHANNEL_TEMPLATE % name)
    return subscribers > 0


def start_worker(tmp_path: Path):
    """Start `manage.py rqworker default another`; yield it once it listens for commands."""
    name = f"backtick-test-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "rqworker",
                "--name",
                name,
                "default",
                "another",
            ],
            cwd=settings.BASE_DIR,
            env=worker_env(),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    running = WorkerProcess(name=name, process=process, log=log)
    try:
        wait_until(
            lambda: is_listening(name) or process.poll() is not None,
            timeout=PROCESS_TIMEOUT,
        )
        assert process.poll() is None, running.output()
        yield running
    finally:
        kill_with_its_horses(process)


def kill_with_its_horses(process: subprocess.Popen) -> None:
    """Kill a worker and the work horses it forked, each in a process group of its own.

    Linux only: the horses are found in /proc.
    """
    if process.poll() is not None:
        return
    # Frozen, the worker can fork no new horse between the listing and the kill.
    os.kill(process.pid, signal.SIGSTOP)
    children = (
        Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    )
    for pid in map(int, children):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.kill()
    process.wait(timeout=PROCESS_TIMEOUT)
