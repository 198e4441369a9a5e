from __future__ import annotations

import redis
from django.core.management.base import BaseCommand, CommandError

from scheduling.models import Interface
from scheduling.reconcile import reconcile_tasks


class Command(BaseCommand):
    help = "Bring the audit rows of unfinished tasks in line with their jobs in Redis."

    def handle(self, *args, **options) -> None:
        try:
            report = reconcile_tasks(interface=Interface.COMMAND)
        except redis.exceptions.RedisError as exc:
            raise CommandError(
                "Redis cannot be reached; no task was reconciled."
            ) from exc
        self.stdout.write(f"checked: {report.checked}")
        self.stdout.write(self.style.SUCCESS(f"changed: {report.changed}"))
