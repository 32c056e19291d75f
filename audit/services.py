"""Writing to the audit log. Other apps call ``record``; nothing else writes AuditEvents.

Both ``explainers`` and ``feedback`` may import this module; it imports neither.
"""

import getpass

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.http import HttpRequest
from simple_history.models import HistoricalRecords

from newsroom.client_ip import client_ip

from .models import AuditEvent

REPR_LENGTH = AuditEvent._meta.get_field("object_repr").max_length
NAME_LENGTH = AuditEvent._meta.get_field("actor_name").max_length


def current_request() -> HttpRequest | None:
    """The request being served, as simple-history's middleware keeps it (None in commands).

    Signals such as ``m2m_changed`` carry no request; this says who made the change.
    """
    return getattr(HistoricalRecords.context, "request", None)


def system_user() -> str:
    """The operating-system account running a command, which is who ran it."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        return ""


def record(
    *,
    action: str,
    actor: AbstractBaseUser | None = None,
    obj: models.Model | None = None,
    details: dict | None = None,
    request: HttpRequest | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """Append one event to the audit log.

    ``actor`` defaults to the user of the request being served; ``actor_name`` to their
    username, or for a command to the system account running it. ``details`` must never
    hold a password, a token or a secret.
    """
    if action not in AuditEvent.Action.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    request = request if request is not None else current_request()
    user = getattr(request, "user", None)
    if actor is None and user is not None and user.is_authenticated:
        actor = user
    details = dict(details or {})
    if request is None:
        # A command (or the shell): the account it ran under is who to ask about it.
        details["run_by"] = system_user()
    if not actor_name:
        actor_name = actor.get_username() if actor is not None else ""
    if not actor_name and request is None:
        actor_name = f"{details['run_by']} (command)".lstrip()
    event = AuditEvent(
        action=action,
        actor=actor,
        actor_name=actor_name[:NAME_LENGTH],
        ip_address=client_ip(request) if request is not None else None,
        details=details,
    )
    if obj is not None:
        event.object_type = obj._meta.label_lower
        event.object_id = str(obj.pk)
        event.object_repr = str(obj)[:REPR_LENGTH]
    event.save()
    return event
