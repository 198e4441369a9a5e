from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from scheduling.redis_keys import get_connection
from tests.processes import start_worker


@pytest.fixture(autouse=True)
def redis_db():
    """The test Redis database, emptied before each test (never index 0: see tests/settings)."""
    connection = get_connection()
    index = connection.connection_pool.connection_kwargs.get("db", 0)
    assert index != 0, "tests must not run against Redis database 0"
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(
        username="alice", password="secret-pass-1"
    )


@pytest.fixture
def root(db):
    """A superuser, as the admin tests and benchmarks log in."""
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


@pytest.fixture
def api_client(user):
    client = APIClient()
    token = Token.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A real `manage.py rqworker default another` process on the test database."""
    yield from start_worker(tmp_path)
