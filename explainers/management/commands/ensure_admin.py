import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Development only: make sure an admin account exists and say how to log in. "
        "The generated password is kept in var/admin-password.txt."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000", help="The port the site will serve on.")

    def handle(self, *args, port, verbosity, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "ensure_admin is for development. In production run "
                "'python manage.py createsuperuser' instead."
            )
        users = get_user_model()
        password_file = settings.VAR_DIR / "admin-password.txt"
        if not users.objects.filter(username=USERNAME).exists():
            password = secrets.token_urlsafe(12)
            users.objects.create_superuser(USERNAME, f"{USERNAME}@example.com", password)
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        if verbosity < 1:
            return
        url = f"http://127.0.0.1:{port}"
        if password_file.exists():
            login = (
                f"user '{USERNAME}', password '{password_file.read_text().strip()}' "
                f"(kept in {password_file})"
            )
        else:
            login = (
                f"user '{USERNAME}'; set its password with "
                f"'.venv/bin/python manage.py changepassword {USERNAME}'"
            )
        self.stdout.write(self.style.SUCCESS(f"\n  Site:  {url}/\n  Admin: {url}/admin/"))
        self.stdout.write(f"  Log in as {login}.\n")
