from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduling import worker_control
from scheduling.exceptions import RedisUnavailable


class Command(BaseCommand):
    help = "Tell every worker to finish its current task and then exit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the workers; tell none of them.",
        )

    def handle(self, *args, dry_run: bool, **options) -> None:
        try:
            names = (
                worker_control.worker_names()
                if dry_run
                else worker_control.stop_workers()
            )
        except RedisUnavailable as exc:
            raise CommandError(
                "Redis cannot be reached; no worker was told to stop."
            ) from exc

        for name in names:
            self.stdout.write(name)
        if dry_run:
            self.stdout.write(f"Would tell {len(names)} worker(s) to stop.")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Told {len(names)} worker(s) to stop.")
            )
