"""The project's own options, read when they are used so that override_settings works."""

from django.conf import settings

DEFAULTS = {
    # How far ahead a run may be scheduled, in seconds.
    "BACKTICK_MAX_SCHEDULE_AHEAD": 30 * 24 * 3600,
    # How many datetimes one request may carry.
    "BACKTICK_MAX_DATETIMES": 1000,
    # Longest sleep of the scheduler between two looks at the schedule, in seconds.
    "BACKTICK_SCHEDULER_POLL_INTERVAL": 0.25,
    # How often the scheduler process heals the audit mirror, in seconds.
    "BACKTICK_RECONCILE_INTERVAL": 60,
    # A row younger than this is never taken for lost: its job may still be on its way.
    "BACKTICK_RECONCILE_GRACE": 30,
    # How long a canceled job's hash stays in Redis for inspection, in seconds.
    "BACKTICK_CANCELED_JOB_TTL": 24 * 3600,
    # Most characters of JSON a run's kwargs may take.
    "BACKTICK_MAX_KWARGS_CHARS": 64 * 1024,
    # Upper bounds of what the audit mirror keeps of a result and of an error.
    "BACKTICK_RESULT_MAX_CHARS": 10_000,
    "BACKTICK_ERROR_MAX_CHARS": 10_000,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
