"""Helpers of the end-to-end suite: waiting on conditions, real processes, the HTTP API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import redis
import requests

from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FINAL_STATUSES = frozenset({"finished", "failed", "stopped", "canceled"})

T = TypeVar("T")


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    """One child process that leads its own process group, with its output in a file."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    # The name the process registered under in Redis, once it is known (workers only).
    rq_name: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def has_exited(self) -> bool:
        # WNOWAIT leaves an exited leader a zombie: its pid, and so its process group id,
        # cannot be reused by an unrelated process before the group has been swept.
        if self.popen.returncode is not None:
            return True
        with suppress(ChildProcessError):
            return (
                os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
                is not None
            )
        return True

    def kill(self) -> int:
        """SIGKILL the whole group at once, as a crash or an OOM kill would, and reap it."""
        if self.popen.returncode is None:
            with suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        return self.popen.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM the leader alone: it shuts down in its own way, children included."""
        if self.popen.returncode is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        """Wait for the leader until ``deadline`` (monotonic), then SIGKILL what is left."""
        while not self.has_exited() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.kill()

    def tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no output)"
        return "\n".join(
            self.log_path.read_text(errors="replace").splitlines()[-lines:]
        )


def spawn(
    name: str, argv: list[str], *, env: dict[str, str], log_path: Path
) -> Process:
    """Start ``argv`` in a new session, so that its children can be killed with it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name=name, popen=popen, log_path=log_path)


class Supervisor:
    """Starts backtick's web, worker and scheduler processes and stops every one of them.

    All of them share one environment: the same database and the same Redis.
    """

    def __init__(self, *, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.redis = redis.Redis.from_url(env["REDIS_URL"], socket_timeout=5)
        self.processes: list[Process] = []

    def start(self, name: str, argv: list[str]) -> Process:
        count = sum(1 for process in self.processes if process.name == name)
        log_path = self.log_dir / f"{name}-{count + 1}.log"
        process = spawn(name, argv, env=self.env, log_path=log_path)
        self.processes.append(process)
        return process

    def spawn_web(self) -> tuple[Process, str]:
        port = free_port()
        process = self.start(
            "web",
            [
                str(BIN / "gunicorn"),
                "backtick_site.wsgi",
                f"--bind=127.0.0.1:{port}",
                # One process that loads the application once, threads for concurrency.
                "--workers=1",
                "--threads=4",
                "--access-logfile=-",
            ],
        )
        return process, f"http://127.0.0.1:{port}"

    def spawn_worker(self) -> Process:
        return self.start(
            "worker", [sys.executable, "manage.py", "rqworker", "default", "another"]
        )

    def spawn_scheduler(self) -> Process:
        return self.start("scheduler", [sys.executable, "manage.py", "rqscheduler"])

    def scheduler_keys(self) -> set[bytes]:
        return set(self.redis.scan_iter(match="rq:scheduler_instance:*"))

    def wait_for_web(
        self, process: Process, base_url: str, *, timeout: float = 20
    ) -> None:
        def answers() -> bool:
            self.assert_alive(process)
            try:
                # Any answer at all means gunicorn's worker has loaded the application,
                # which it does on its first request.
                requests.get(f"{base_url}/registered-tasks/", timeout=5)
            except (requests.ConnectionError, requests.Timeout):
                return False
            return True

        wait_until(answers, timeout=timeout, interval=0.1, what=f"web on {base_url}")

    def wait_for_worker(self, process: Process, *, timeout: float = 20) -> None:
        def registered() -> str:
            self.assert_alive(process)
            for key in self.redis.smembers("rq:workers"):
                if self.redis.hget(key, "pid") == str(process.pid).encode():
                    return key.decode().removeprefix("rq:worker:")
            return ""

        process.rq_name = wait_until(
            registered, timeout=timeout, what=f"worker {process.pid}"
        )

    def wait_for_scheduler(
        self, process: Process, known: set[bytes], *, timeout: float = 20
    ) -> None:
        def registered() -> set[bytes]:
            self.assert_alive(process)
            return self.scheduler_keys() - known

        wait_until(registered, timeout=timeout, what=f"scheduler {process.pid}")

    def start_web(self) -> str:
        """Start gunicorn and return its base URL once it answers."""
        process, base_url = self.spawn_web()
        self.wait_for_web(process, base_url)
        return base_url

    def start_worker(self) -> Process:
        """Start a worker and return it once it is registered in Redis."""
        process = self.spawn_worker()
        self.wait_for_worker(process)
        return process

    def start_scheduler(self) -> Process:
        """Start a scheduler and return it once it is registered in Redis."""
        known = self.scheduler_keys()
        process = self.spawn_scheduler()
        self.wait_for_scheduler(process, known)
        return process

    @staticmethod
    def assert_alive(process: Process) -> None:
        assert not process.has_exited(), (
            f"{process.name} exited early:\n{process.tail()}"
        )

    def stop_all(self, grace: float = 5.0) -> None:
        """Ask every process to stop, all at once, and kill those still running after ``grace``."""
        for process in self.processes:
            process.terminate()
        deadline = time.monotonic() + grace
        for process in self.processes:
            process.wait_or_kill(deadline)
        self.redis.close()

    def log_tails(self, lines: int = 40) -> str:
        """The last lines of every log written under ``log_dir``, the Redis server's too."""
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"----- {path}\n" + "\n".join(text))
        return "\n".join(parts) or "(no logs)"


def check_ok(response: requests.Response) -> None:
    # Only the start of the body: DEBUG error pages run to hundreds of kilobytes, and the
    # web process's log, attached to the failure, holds the traceback anyway.
    assert response.status_code == 200, (response.status_code, response.text[:300])


class BacktickApi:
    """The service's HTTP API as a client with a token sees it."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(f"{self.base_url}{path}", json=body, timeout=10)
        check_ok(response)
        return response.json()

    def schedule(
        self,
        task_name: str,
        *,
        at: Iterable[datetime],
        kwargs: dict[str, Any] | None = None,
    ) -> list[str]:
        body = {
            "task_name": task_name,
            # Microseconds always: the schedule must keep fractions of a second.
            "datetimes": [when.isoformat(timespec="microseconds") for when in at],
            "kwargs": kwargs or {},
        }
        return self.post("/schedule", body)["task_ids"]

    def unschedule(self, task_ids: list[str]) -> dict[str, Any]:
        return self.post("/unschedule", {"task_ids": task_ids})

    def task(self, task_id: str) -> dict[str, Any]:
        response = self.session.get(f"{self.base_url}/tasks/{task_id}", timeout=10)
        check_ok(response)
        return response.json()

    def wait_until_final(self, task_id: str, *, timeout: float) -> dict[str, Any]:
        """The task once it is finished, failed, stopped or canceled."""

        last: dict[str, Any] = {}

        def final() -> dict[str, Any] | None:
            last.update(self.task(task_id))
            return last if last["status"] in FINAL_STATUSES else None

        try:
            return wait_until(final, timeout=timeout, interval=0.1)
        except AssertionError:
            raise AssertionError(
                f"Task {task_id} still {last.get('status')!r} after {timeout}s; "
                f"events: {event_kinds(last) if last else []}"
            ) from None


@dataclass
class Stack:
    """A running service: its processes, and a client of its API."""

    supervisor: Supervisor
    api: BacktickApi
    web: Process
    worker: Process
    scheduler: Process


def event_kinds(task: dict[str, Any]) -> list[str]:
    """The kinds of the task's events, oldest first."""
    return [event["kind"] for event in reversed(task["events"])]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass
class RedisServer:
    """A private redis-server that persists every write to its append-only file."""

    port: int
    data_dir: Path
    log_path: Path
    index: str = "0"
    process: Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{self.index}"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def start(self, *, timeout: float = 10) -> None:
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            # Every write reaches the disk before the client hears it succeeded, so even
            # a SIGKILL loses nothing that was acknowledged.
            "--appendfsync",
            "always",
            "--save",
            "",
        ]
        self.process = spawn(
            "redis-server", argv, env=dict(os.environ), log_path=self.log_path
        )
        client = self.client()

        def ready() -> bool:
            assert not self.process.has_exited(), (
                f"redis-server exited:\n{self.process.tail()}"
            )
            try:
                # PING is refused while the append-only file is still being loaded.
                return bool(client.ping())
            except redis.RedisError:
                return False

        try:
            wait_until(ready, timeout=timeout, what=f"redis-server on port {self.port}")
        finally:
            client.close()

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum`` to the server's pid and wait for it to exit."""
        assert self.process is not None
        if self.process.popen.returncode is not None:
            return self.process.popen.returncode
        with suppress(ProcessLookupError):
            os.kill(self.process.pid, signum)
        return self.process.popen.wait(timeout=10)
