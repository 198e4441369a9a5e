from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from scheduling import selectors, services
from scheduling.actors import Actor
from scheduling.exceptions import RedisUnavailable
from scheduling.management.arguments import aware_datetime
from scheduling.models import FINAL_STATUSES

COMMAND_NAME = "requeue_tasks"


class Command(BaseCommand):
    help = "Run ended tasks again now, each as a new run linked to the one it repeats."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "task_ids", nargs="*", help="Ids of ended tasks to requeue."
        )
        parser.add_argument(
            "--status",
            action="append",
            choices=sorted(FINAL_STATUSES),
            help="Requeue the runs that ended with this status (repeatable).",
        )
        parser.add_argument(
            "--task-name", help="Only the runs of this registered task."
        )
        parser.add_argument(
            "--since",
            type=aware_datetime,
            help="Only the runs that ended at or after this ISO-8601 datetime with offset.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="How many tasks to requeue per call to Redis and the database.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List what would be requeued; change nothing.",
        )

    def handle(
        self,
        *args,
        task_ids: list[str],
        status: list[str] | None,
        task_name: str | None,
        since: datetime | None,
        batch_size: int,
        dry_run: bool,
        **options,
    ) -> None:
        filters = status or task_name or since
        if bool(task_ids) == bool(filters):
            raise CommandError(
                "Give either task ids or filters (--status, --task-name, --since), not both."
            )
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1; got {batch_size}.")

        batches = (
            [task_ids[i : i + batch_size] for i in range(0, len(task_ids), batch_size)]
            if task_ids
            else self.filtered_batches(status, task_name, since, batch_size)
        )
        if dry_run:
            self.list_batches(batches)
            return
        self.requeue(batches)

    def filtered_batches(self, status, task_name, since, batch_size):
        tasks = selectors.ended_tasks(statuses=status, task_name=task_name, since=since)
        # A new run that ends while the command still pages must not be taken again.
        tasks = tasks.filter(created_at__lt=timezone.now())
        return selectors.task_id_batches(tasks, size=batch_size)

    def list_batches(self, batches) -> None:
        count = 0
        for batch in batches:
            for task_id in batch:
                self.stdout.write(task_id)
            count += len(batch)
        self.stdout.write(f"Would requeue {count} task(s); nothing was changed.")

    def requeue(self, batches) -> None:
        actor = Actor.command(COMMAND_NAME)
        requeued = 0
        skipped: Counter[str] = Counter()
        for batch in batches:
            try:
                report = services.requeue_tasks(task_ids=batch, actor=actor)
            except RedisUnavailable as exc:
                raise CommandError(
                    f"Redis cannot be reached; {requeued} task(s) were requeued before it failed."
                ) from exc
            requeued += len(report.done)
            skipped.update(report.skipped.values())
            for original, new_id in report.done.items():
                self.stdout.write(f"{original} -> {new_id}")
            self.stderr.write(f"... {requeued} requeued so far")

        self.stdout.write(self.style.SUCCESS(f"requeued: {requeued}"))
        for reason, count in sorted(skipped.items()):
            self.stdout.write(f"skipped ({reason}): {count}")
