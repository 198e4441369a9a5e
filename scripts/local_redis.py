"""Make sure a Redis answers at REDIS_URL for `make run`.

When nothing answers and REDIS_URL points at this machine, start a private redis-server
with append-only persistence whose data lives in var/redis, so that the schedule
survives restarts of the local stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import redis

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.exceptions.RedisError:
        return False


def main() -> int:
    if answers(URL):
        print(f"Redis answers at {URL}")
        return 0

    parsed = urlparse(URL)
    server = shutil.which("redis-server")
    if parsed.hostname not in LOCAL_HOSTS or server is None:
        print(
            f"Nothing answers at {URL} and no local redis-server can be started.",
            file=sys.stderr,
        )
        print("Install Redis or point REDIS_URL at a running one.", file=sys.stderr)
        return 1

    data_dir = ROOT / "var" / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = str(parsed.port or 6379)
    subprocess.run(
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            port,
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--daemonize",
            "yes",
            "--pidfile",
            str(data_dir / "redis.pid"),
            "--logfile",
            str(data_dir / "redis.log"),
        ],
        check=True,
    )
    for _ in range(50):
        if answers(URL):
            print(f"Started a private redis-server on port {port}, data in {data_dir}")
            return 0
        time.sleep(0.1)
    print("redis-server did not come up; see var/redis/redis.log", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
