from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduling import services
from scheduling.actors import Actor
from scheduling.exceptions import ActionRefused, RedisUnavailable, TaskNotFound


class Command(BaseCommand):
    help = "Move a scheduled task to its queue now; it keeps its id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task_id", help="The id of a scheduled task.")

    def handle(self, *args, task_id: str, **options) -> None:
        try:
            services.act_on_task(
                "run_now", task_id, actor=Actor.command("run_task_now")
            )
        except (TaskNotFound, ActionRefused) as exc:
            raise CommandError(exc.detail) from exc
        except RedisUnavailable as exc:
            raise CommandError(
                "Redis cannot be reached; the task was not moved."
            ) from exc
        self.stdout.write(self.style.SUCCESS(f"Task {task_id} queued to run now."))
