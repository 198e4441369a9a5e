"""Fixtures of the benchmarks: a logged-in superuser and an empty Redis test index."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from scheduling.redis_keys import get_connection


@pytest.fixture(autouse=True)
def redis_db():
    """The test Redis database, emptied before and after (never index 0)."""
    connection = get_connection()
    index = connection.connection_pool.connection_kwargs.get("db", 0)
    assert index != 0, "benchmarks must not run against Redis database 0"
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client
