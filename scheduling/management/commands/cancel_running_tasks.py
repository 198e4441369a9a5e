from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduling import worker_control
from scheduling.actors import Actor
from scheduling.exceptions import RedisUnavailable

COMMAND_NAME = "cancel_running_tasks"


class Command(BaseCommand):
    help = "Ask the workers to stop every task they are running now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List the running tasks; stop none."
        )

    def handle(self, *args, dry_run: bool, **options) -> None:
        try:
            if dry_run:
                running = worker_control.running_task_ids()
            else:
                running = worker_control.stop_running_tasks(
                    actor=Actor.command(COMMAND_NAME)
                )
        except RedisUnavailable as exc:
            raise CommandError(
                "Redis cannot be reached; no running task was stopped."
            ) from exc

        for task_id in running:
            self.stdout.write(task_id)
        if dry_run:
            self.stdout.write(f"Would ask to stop {len(running)} running task(s).")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Asked to stop {len(running)} running task(s).")
            )
