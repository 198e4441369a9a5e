from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduling import selectors, services
from scheduling.actors import Actor
from scheduling.exceptions import RedisUnavailable
from scheduling.management.arguments import aware_datetime

COMMAND_NAME = "cancel_scheduled_tasks"


class Command(BaseCommand):
    help = "Cancel the tasks that are scheduled or queued and not yet running."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--task-name",
            default=None,
            help="Cancel only the runs of this registered task.",
        )
        parser.add_argument(
            "--before",
            type=aware_datetime,
            default=None,
            help="Cancel only the runs due before this ISO-8601 datetime with offset.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="How many tasks to cancel per call to Redis and the database.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List what would be canceled; change nothing.",
        )

    def handle(
        self,
        *args,
        task_name: str | None,
        before: datetime | None,
        batch_size: int,
        dry_run: bool,
        **options,
    ) -> None:
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1; got {batch_size}.")
        tasks = selectors.pending_tasks(task_name=task_name, before=before)

        if dry_run:
            count = 0
            for task in tasks.iterator():
                due = task.scheduled_for.isoformat()
                self.stdout.write(f"{task.id} {task.task_name} {task.status} due {due}")
                count += 1
            self.stdout.write(f"Would cancel {count} task(s); nothing was changed.")
            return

        outcomes: Counter[str] = Counter()
        actor = Actor.command(COMMAND_NAME)
        for task_ids in selectors.task_id_batches(tasks, size=batch_size):
            try:
                report = services.cancel_tasks(task_ids=task_ids, actor=actor)
            except RedisUnavailable as exc:
                canceled = outcomes[services.Outcome.CANCELED]
                raise CommandError(
                    f"Redis cannot be reached; {canceled} task(s) were canceled "
                    "before it failed."
                ) from exc
            outcomes.update(report.outcomes.values())
            self.stderr.write(f"... {sum(outcomes.values())} task(s) handled so far")
        self.write_outcomes(outcomes)

    def write_outcomes(self, outcomes: Counter[str]) -> None:
        canceled = outcomes.pop(services.Outcome.CANCELED, 0)
        self.stdout.write(self.style.SUCCESS(f"canceled: {canceled}"))
        for outcome, count in sorted(outcomes.items()):
            self.stdout.write(self.style.WARNING(f"{outcome}: {count}"))
