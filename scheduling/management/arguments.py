"""Argument types shared by the project's management commands."""

from __future__ import annotations

import argparse
from datetime import datetime

from scheduling.datetimes import DatetimeRefused, parse_offset_datetime


def aware_datetime(value: str) -> datetime:
    """An ISO-8601 datetime with a UTC offset, for argparse; returned in UTC."""
    try:
        return parse_offset_datetime(value)
    except DatetimeRefused as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO-8601 datetime with a UTC offset, "
            "such as 2030-01-31T09:00:00+00:00."
        ) from exc
