"""Cache invalidation only: a saved change readers could see invalidates the pages showing it.

Each change names the surrogate keys it affects (see page_cache): the explainer's own key, and
for a change to what is public (publication, expiry, unpublishing, a new approved version) its
topics and every kind of list, where it may appear or disappear. Keys are invalidated at once
and again after commit (a page rendered from the old data while the transaction was open must
not survive), and ``page_cache.keys_changed`` then tells a CDN purger. Sources are not watched:
readers get them from the approved revision (``source_list``), never from the Source rows.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save

from . import page_cache
from .models import Explainer, Notice, RenditionSet, SlugRedirect, Topic

LISTS = ("home", "corrections", "topics", "search", "feeds", "sitemaps")
# Related lists filled by text can take in any explainer that is published (or whose published
# text changed); one leaves them through its own key, so leaving needs no other.
JOINS_RELATED = "related"
# What readers get of an explainer besides its approved revisions' text: a draft edit changes
# none of these, so it invalidates nothing.
PUBLIC_FIELDS = (
    "status",
    "published_at",
    "expires_at",
    "public_updated_at",
    "live_revision_id",
    "scheduled_revision_id",
    "scheduled_at",
)


def public_state(explainer: Explainer) -> tuple | None:
    """The public fields as loaded, or None if any is deferred (never loaded here: no query)."""
    values = explainer.__dict__
    if any(name not in values for name in PUBLIC_FIELDS):
        return None
    return tuple(values[name] for name in PUBLIC_FIELDS)


def changed(keys: set[str]) -> None:
    page_cache.invalidate(*keys)

    def committed():
        page_cache.invalidate(*keys)
        page_cache.keys_changed.send(sender=Explainer, keys=sorted(keys))

    # robust: the change is committed; a failing purge queue must not turn the save into a 500.
    transaction.on_commit(committed, robust=True)


def explainer_public_keys(explainer: Explainer) -> set[str]:
    """Its page and every list it may join or leave: the lists it was on carry its own key."""
    topic = [f"topic-{explainer.topic_id}"] if explainer.topic_id else []
    return {f"explainer-{explainer.pk}", *LISTS, *topic}


def explainer_loaded(sender, instance, **kwargs) -> None:
    instance._public_state = public_state(instance)


def explainer_saved(sender, instance, created, **kwargs) -> None:
    before, after = getattr(instance, "_public_state", None), public_state(instance)
    if before is None or after is None:
        changed(explainer_public_keys(instance) | {JOINS_RELATED})
    else:
        status = PUBLIC_FIELDS.index("status")
        # Readers never see an explainer that is not published, before or after this save
        # (a draft's workflow), nor anything but the public fields (a draft edit, a sign-off).
        seen = Explainer.Status.PUBLISHED in {after[status], *(() if created else [before[status]])}
        if seen and (created or before != after):
            keys = explainer_public_keys(instance)
            if after[status] == Explainer.Status.PUBLISHED:
                keys.add(JOINS_RELATED)
            changed(keys)
    instance._public_state = after


def explainer_deleted(sender, instance, **kwargs) -> None:
    changed(explainer_public_keys(instance))


def notice_changed(sender, instance, **kwargs) -> None:
    changed({f"explainer-{instance.explainer_id}", "corrections", "feeds", "sitemaps"})


def old_address_changed(sender, instance, **kwargs) -> None:
    """An old address answers with a redirect to the explainer: only its own key covers it."""
    changed({f"explainer-{instance.explainer_id}"})


def renditions_changed(sender, instance, **kwargs) -> None:
    """A lead image's files, made or withdrawn after publishing, change only its own page."""
    changed({f"explainer-{instance.explainer_id}"})


def topic_changed(sender, instance, **kwargs) -> None:
    changed({f"topic-{instance.pk}", "topics", "search", "feeds", "sitemaps"})


post_init.connect(explainer_loaded, sender=Explainer, dispatch_uid="pages-explainer-init")
post_save.connect(explainer_saved, sender=Explainer, dispatch_uid="pages-explainer-save")
post_delete.connect(explainer_deleted, sender=Explainer, dispatch_uid="pages-explainer-delete")
for model, receiver in (
    (Notice, notice_changed),
    (SlugRedirect, old_address_changed),
    (RenditionSet, renditions_changed),
    (Topic, topic_changed),
):
    post_save.connect(receiver, sender=model, dispatch_uid=f"pages-{model.__name__}-save")
    post_delete.connect(receiver, sender=model, dispatch_uid=f"pages-{model.__name__}-delete")
