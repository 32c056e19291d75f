"""The admin's home page: short lists of what waits for the person logged in.

Apps register panels here (explainers: the writers' and editors' queues; feedback: the
analysts' figures), so this module knows no app and no app knows another's panels. The
admin's index page shows the panels the user's role calls for, each a short list with its
total and a link to the matching filtered list, each one database query.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet, Window


@dataclass(frozen=True)
class Item:
    """One line of a panel: what it is, where to open it, and a few words about it."""

    label: str
    url: str
    meta: str = ""
    note: str = ""


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    # Who sees the panel (superusers see every panel).
    audience: Callable[[AbstractBaseUser], bool]
    # The rows to list, in order, for this user.
    rows: Callable[[AbstractBaseUser], QuerySet]
    describe: Callable[[Any], Item]
    # The changelist that shows every row, filtered the same way; None when there is none.
    link: Callable[[], str] | None = None
    empty: str = "Nothing here."
    limit: int = 5
    # A panel that only warns (of failures, say) is left out while there is nothing to warn of.
    hide_when_empty: bool = False


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> Panel:
    _PANELS[panel.key] = panel
    return panel


def registered() -> list[Panel]:
    return list(_PANELS.values())


def panels_for(user: AbstractBaseUser) -> list[dict]:
    """The panels ``user`` sees, each with its first rows and their total, one query each."""
    shown = []
    for panel in _PANELS.values():
        if not (user.is_superuser or panel.audience(user)):
            continue
        # The total rides along on every row (COUNT(*) OVER ()), so the slice stays one query.
        rows = list(panel.rows(user).annotate(panel_total=Window(Count("pk")))[: panel.limit])
        if not rows and panel.hide_when_empty:
            continue
        shown.append(
            {
                "panel": panel,
                "items": [panel.describe(row) for row in rows],
                "total": rows[0].panel_total if rows else 0,
                "link": panel.link() if panel.link else None,
            }
        )
    return shown
