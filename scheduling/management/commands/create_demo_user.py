import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create the local demo superuser (demo / demo) if missing and print its API token."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo")

    def handle(self, *args, username: str, password: str, **options):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        token, _ = Token.objects.get_or_create(user=user)

        state = "created" if created else "exists"
        self.stdout.write(
            f"Demo superuser {username!r} {state}; password {password!r} if new."
        )
        self.stdout.write(self.style.SUCCESS(f"API token: {token.key}"))
        port = os.environ.get("PORT") or "5000"
        self.stdout.write(
            f"  curl -H 'Authorization: Token {token.key}' http://127.0.0.1:{port}/tasks/"
        )
