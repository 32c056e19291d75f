"""Make the lead-image renditions that versions in use need, and delete those none needs.

Run after restoring media from a backup, after changing the rendition settings, or from cron
(``--missing``) to catch anything a failed upload or publication left out.
"""

from django.core.management.base import BaseCommand, CommandError

from explainers import renditions
from explainers.models import Explainer, RenditionSet


class Command(BaseCommand):
    help = (
        "Make the renditions of every lead image a reader or an editor may see (working "
        "copy, live and scheduled versions), then delete the sets no version in use needs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--missing",
            action="store_true",
            help="Only make sets that do not exist or have lost files; leave complete ones.",
        )

    def handle(self, *args, missing: bool = False, **options):
        counts = {"made": 0, "rebuilt": 0, "complete": 0, "failed": 0, "deleted": 0}
        explainers = Explainer.objects.select_related("live_revision", "scheduled_revision")
        for explainer in explainers.order_by("pk").iterator(chunk_size=200):
            done = set()
            for content in renditions.contents_in_use(explainer):
                key = renditions.source_key(content)
                if key in done:
                    continue
                done.add(key)
                existing = RenditionSet.objects.filter(source_key=key).first()
                if missing and existing is not None and renditions.is_complete(existing):
                    counts["complete"] += 1
                    continue
                try:
                    renditions.ensure(content, rebuild=existing is not None)
                except Exception as error:  # one bad original must not stop the others
                    counts["failed"] += 1
                    self.stderr.write(
                        f"Explainer {explainer.pk}, image {renditions.image_name(content)}: {error}"
                    )
                    continue
                counts["rebuilt" if existing is not None else "made"] += 1
            counts["deleted"] += renditions.prune(explainer)
        summary = (
            "Rendition sets: {made} made, {rebuilt} rebuilt, {complete} already complete, "
            "{failed} failed; {deleted} no longer needed deleted.".format(**counts)
        )
        if counts["failed"]:
            raise CommandError(summary)
        if options["verbosity"]:
            self.stdout.write(summary)
