"""The benchmarks use the test suite's fixtures: an emptied Redis test index and a
logged-in superuser."""

from tests.conftest import admin_client, redis_db, root  # noqa: F401
