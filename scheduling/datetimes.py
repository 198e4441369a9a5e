"""Datetimes as clients send them: ISO-8601 that carries its UTC offset."""

from __future__ import annotations

from datetime import UTC, datetime


class DatetimeRefused(ValueError):
    """Why a text is not an acceptable datetime; ``code`` names the reason."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def parse_offset_datetime(text: str) -> datetime:
    """The moment an ISO-8601 text with a UTC offset names, in UTC.

    Raises DatetimeRefused with code ``invalid`` (not ISO-8601), ``naive`` (no offset:
    the server would have to guess a time zone) or ``out_of_range`` (the offset pushes
    it past the first or last representable moment).
    """
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise DatetimeRefused(
            f"Not an ISO-8601 datetime: {text!r}.", code="invalid"
        ) from exc
    if parsed.utcoffset() is None:
        raise DatetimeRefused(
            f"{text!r} has no UTC offset; add one, such as Z or +00:00.", code="naive"
        )
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        raise DatetimeRefused(
            f"{text!r} is out of the range of datetimes.", code="out_of_range"
        ) from exc
