import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from newsroom.private_files import private_directory, replace_private_file

USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Development only: make sure an admin account exists and say how to log in. "
        "The generated password is printed once, when the account is created, and kept in "
        "var/admin-password.txt, which only you may read."
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
        password = None
        if not users.objects.filter(username=USERNAME).exists():
            password = secrets.token_urlsafe(12)
            users.objects.create_superuser(USERNAME, f"{USERNAME}@example.com", password)
            private_directory(settings.VAR_DIR)
            # Replaces a file left from an earlier database, whatever its mode.
            replace_private_file(password_file, password + "\n")
        if verbosity < 1:
            return
        url = f"http://127.0.0.1:{port}"
        # The password is shown on the run that creates it only: terminals keep scrollback
        # and logs, and it stays at hand in the file.
        if password is not None:
            login = f"user '{USERNAME}', password '{password}' (kept in {password_file})"
        elif password_file.exists():
            login = f"user '{USERNAME}'; its password is kept in {password_file}"
        else:
            login = (
                f"user '{USERNAME}'; set its password with "
                f"'.venv/bin/python manage.py changepassword {USERNAME}'"
            )
        self.stdout.write(self.style.SUCCESS(f"\n  Site:  {url}/\n  Admin: {url}/admin/"))
        self.stdout.write(f"  Log in as {login}.\n")
