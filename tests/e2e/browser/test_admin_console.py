"""An operator works the admin in a real browser, against real web, worker and scheduler."""

from __future__ import annotations

import pytest

from .conftest import Operator

pytestmark = pytest.mark.e2e


def test_operator_logs_in_and_sees_the_task_list(operator: Operator) -> None:
    operator.open("/admin/scheduling/scheduledtask/")

    operator.shot("changelist")
    assert "scheduled task" in operator.page.title().lower()
