"""Settings for the test suite: real PostgreSQL, and a Redis database index of its own."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/backtick")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from backtick_site.settings import *  # noqa: E402,F403
from backtick_site.settings import REDIS_URL  # noqa: E402

# The suite flushes this index between tests; refuse to run against index 0.
if REDIS_URL.rstrip("/").endswith("/0") or REDIS_URL.rstrip("/").count("/") < 3:
    raise RuntimeError(
        "Tests need REDIS_URL with a dedicated database index other than 0."
    )

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_ROOT = None  # static files are served by the staticfiles finders in tests
