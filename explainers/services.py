"""Writes to explainers. Views, the admin and commands call these instead of saving directly."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import Explainer

SLUG_MAX_LENGTH = Explainer._meta.get_field("slug").max_length


def unique_slug(headline: str, *, exclude_pk: int | None = None) -> str:
    """A URL-safe slug from ``headline`` that no other explainer uses (``-2``, ``-3``…)."""
    base = slugify(headline)[: SLUG_MAX_LENGTH - 4].strip("-") or "explainer"
    if len(slugify(headline)) > len(base) and "-" in base:
        base = base[: base.rindex("-")]  # don't leave half a word at the end of the address
    taken = Explainer.objects.filter(slug__startswith=base)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    taken = set(taken.values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def explainer_publish(
    *, explainers: Iterable[Explainer], user: AbstractBaseUser | None = None
) -> int:
    """Publish the given explainers now, keeping the first publication time of any re-published.

    Returns how many changed state.
    """
    now = timezone.now()
    count = 0
    for explainer in explainers:
        if explainer.status == Explainer.Status.PUBLISHED:
            continue
        explainer.status = Explainer.Status.PUBLISHED
        explainer.published_at = explainer.published_at or now
        explainer.updated_by = user or explainer.updated_by
        explainer.save(update_fields=["status", "published_at", "updated_by", "updated_at"])
        count += 1
    return count


@transaction.atomic
def explainer_unpublish(
    *, explainers: Iterable[Explainer], user: AbstractBaseUser | None = None
) -> int:
    """Take the given explainers off the site. Returns how many changed state."""
    count = 0
    for explainer in explainers:
        if explainer.status != Explainer.Status.PUBLISHED:
            continue
        explainer.status = Explainer.Status.UNPUBLISHED
        explainer.updated_by = user or explainer.updated_by
        explainer.save(update_fields=["status", "updated_by", "updated_at"])
        count += 1
    return count
