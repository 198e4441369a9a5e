from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduling import services
from scheduling.actors import Actor
from scheduling.exceptions import (
    ActionRefused,
    InvalidSchedule,
    RedisUnavailable,
    TaskNotFound,
)
from scheduling.management.arguments import aware_datetime


class Command(BaseCommand):
    help = "Give a scheduled or queued task a new due time; it keeps its id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task_id", help="The id of a scheduled or queued task.")
        parser.add_argument(
            "datetime",
            type=aware_datetime,
            help="The new due time, ISO-8601 with a UTC offset.",
        )

    def handle(self, *args, task_id: str, datetime: datetime, **options) -> None:
        try:
            services.act_on_task(
                "reschedule",
                task_id,
                actor=Actor.command("reschedule_task"),
                run_at=datetime,
            )
        except (TaskNotFound, ActionRefused) as exc:
            raise CommandError(exc.detail) from exc
        except InvalidSchedule as exc:
            raise CommandError(" ".join(exc.detail["datetime"])) from exc
        except RedisUnavailable as exc:
            raise CommandError(
                "Redis cannot be reached; the task was not moved."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Task {task_id} is now due {datetime.isoformat()}.")
        )
