"""Task ids as clients send them."""

from __future__ import annotations

import uuid
from typing import Any


def parse_task_id(value: Any) -> uuid.UUID | None:
    """The UUID a task id stands for, or None: ids are compared whole, never by prefix."""
    if not isinstance(value, str):
        return None
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return parsed if str(parsed) == value.lower() else None
