"""Argument types shared by the project's management commands."""

from __future__ import annotations

import argparse
from datetime import datetime

from django.utils.dateparse import parse_datetime


def aware_datetime(value: str) -> datetime:
    """An ISO-8601 datetime with a UTC offset, for argparse."""
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO-8601 datetime with a UTC offset, "
            "such as 2030-01-31T09:00:00+00:00."
        )
    return parsed
