import time

from django.core.management.base import BaseCommand, CommandError

from cdn.backends import configured_backend
from cdn.outbox import purge_due


class Command(BaseCommand):
    help = (
        "Purge the CDN of the pages changes affected (NEWSROOM_PURGE_BACKEND), in batches, "
        "retrying failures with back-off. Runs until stopped; --once empties the queue and exits."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Purge what is due, then exit.")
        parser.add_argument(
            "--interval", type=float, default=0.5, help="Seconds between looks at the queue."
        )

    def handle(self, *args, once, interval, **options):
        backend = configured_backend()
        if backend is None:
            raise CommandError(
                "NEWSROOM_PURGE_BACKEND is not set, so there is no CDN to purge: set it to "
                "varnish, fastly or cloudflare (docs/operations.md, 'Caching and CDN purging')."
            )
        if interval <= 0:
            raise CommandError("--interval must be a positive number of seconds.")
        try:
            while True:
                purged, failed = purge_due(backend)
                if purged:
                    self.stdout.write(f"purged {purged} queued changes")
                if once and not purged:
                    return
                if not purged:
                    time.sleep(interval)
        except KeyboardInterrupt:
            return
