"""Every CSV export of ratings, from the admin or the command, goes in the audit log.

The record says who exported, with which filters, and how many rows were written. Exports
stream, so it is made when the stream ends: the count is what was actually written (from the
export's own progress count, no extra query), and an export cut short (a client that went
away, an error) is recorded as incomplete, with the rows known to be written (the last
chunk sent may hold a few more).
"""

from collections.abc import Iterator, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest

from audit import services as audit

from .export import ExportOptions, ProgressCallback, export_csv
from .models import Rating


def export_filters(cleaned_data: dict) -> dict:
    """The filters of a valid ExportForm as the audit log keeps them: dates and slugs."""
    since, until, topic = (cleaned_data.get(name) for name in ("since", "until", "topic"))
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "explainers": sorted(explainer.slug for explainer in cleaned_data.get("explainers", ())),
        "topic": topic.slug if topic else None,
    }


def audited_export(
    *,
    kind: str,
    filters: dict,
    options: ExportOptions | None = None,
    bom: bool = False,
    rating_ids: Sequence[int] | QuerySet[Rating] | None = None,
    progress: ProgressCallback | None = None,
    actor: AbstractBaseUser | None = None,
    request: HttpRequest | None = None,
    via: str,
    jobs: int = 1,
) -> Iterator[bytes]:
    """``export_csv``'s chunks, recorded in the audit log once they have all been taken.

    ``request`` is the admin request that asked for it (its user and address are recorded);
    None for the command, whose system account is recorded instead.
    """
    written = 0
    complete = False

    def count(rows: int) -> None:
        nonlocal written
        written = rows
        if progress is not None:
            progress(rows)

    chunks = export_csv(
        kind=kind, options=options, bom=bom, rating_ids=rating_ids, progress=count, jobs=jobs
    )
    try:
        yield from chunks
        complete = True
    finally:
        chunks.close()
        audit.record(
            action="csv_exported",
            actor=actor,
            request=request,
            details={
                "kind": kind,
                "filters": filters,
                "rows": written,
                "complete": complete,
                "via": via,
            },
        )
