"""Rebuild the search index from the approved revisions (after changing the search config)."""

from django.core.management.base import BaseCommand

from explainers import search
from explainers.models import Explainer, SearchEntry


class Command(BaseCommand):
    help = (
        "Index again the approved revisions (live and scheduled) of every published "
        "explainer, as publishing does. Run it after changing NEWSROOM_SEARCH_CONFIG."
    )

    def handle(self, *args, **options):
        explainers = Explainer.objects.filter(status=Explainer.Status.PUBLISHED).select_related(
            "live_revision", "scheduled_revision"
        )
        SearchEntry.objects.exclude(explainer__in=explainers).delete()
        count = 0
        for explainer in explainers.iterator(chunk_size=500):
            for revision in (explainer.live_revision, explainer.scheduled_revision):
                if revision is not None:
                    search.index_revision(explainer=explainer, revision=revision)
                    count += 1
        self.stdout.write(f"{count} revisions indexed.")
