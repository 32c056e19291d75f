"""Writes to ratings. The vote endpoint calls these; nothing else writes ratings."""

import hashlib
import hmac

from django.conf import settings

from explainers.models import Explainer

from .models import Rating


def reader_key(token: str) -> str:
    """A keyed hash of the reader's cookie, so the stored value cannot be replayed as a cookie."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"reader:{token}".encode(), hashlib.sha256
    ).hexdigest()


def rating_record(
    *, explainer: Explainer, reader_token: str, useful: bool, reason: str = "", comment: str = ""
) -> tuple[Rating, bool]:
    """Record this reader's one vote on ``explainer``, replacing any earlier one.

    Returns the rating and whether it is new. A vote is counted once per reader however
    often it is sent; each post states the reader's whole answer (vote, reason, comment),
    and the rating takes the version of the text the reader saw.
    """
    values = {
        "useful": useful,
        "reason": "" if useful else reason,
        "comment": comment,
        # The version readers see, which a pending edit has not changed.
        "explainer_version": explainer.live_version or explainer.version,
    }
    # update_or_create locks the row and retries a racing insert as an update.
    return Rating.objects.update_or_create(
        explainer=explainer, reader=reader_key(reader_token), defaults=values
    )
