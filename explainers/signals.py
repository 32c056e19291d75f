"""Cache invalidation only: any saved change readers could see starts a new page generation."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from . import page_cache
from .models import Explainer, Notice, SlugRedirect, Source, Topic


def invalidate_pages(**kwargs) -> None:
    page_cache.bump()
    # Again after commit: a page rendered from the old data while the transaction was open
    # must not survive under the new generation.
    transaction.on_commit(page_cache.bump)


for model in (Explainer, Source, Topic, Notice, SlugRedirect):
    post_save.connect(invalidate_pages, sender=model, dispatch_uid=f"pages-{model.__name__}-save")
    post_delete.connect(
        invalidate_pages, sender=model, dispatch_uid=f"pages-{model.__name__}-delete"
    )
