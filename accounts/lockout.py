"""The locked-out page: django-axes' lockout, shown as the admin's login page.

django-axes counts failed logins (its settings are in ``newsroom/settings.py``, "Staff
accounts"); this says who is locked out from where, and until when.
"""

import math

from django.conf import settings
from django.contrib import admin
from django.db.models import Max
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone


def retry_at(*, username: str, ip_address: str | None):
    """When logging in as ``username`` from ``ip_address`` works again; None: when unlocked."""
    from axes.models import AccessAttempt

    cooloff = settings.AXES_COOLOFF_TIME
    if cooloff is None:
        return None
    last = AccessAttempt.objects.filter(username=username, ip_address=ip_address).aggregate(
        last=Max("attempt_time")
    )["last"]
    return (last or timezone.now()) + cooloff


def lockout_message(*, username: str, until) -> str:
    what = (
        f"Too many failed logins for “{username}” from your address: "
        f"{settings.AXES_FAILURE_LIMIT} wrong passwords."
    )
    if until is None:
        return (
            f"{what} Logging in to this account from here stays blocked until an "
            "administrator unlocks it."
        )
    minutes = max(1, round((until - timezone.now()).total_seconds() / 60))
    local = timezone.localtime(until)
    return (
        f"{what} Logging in to this account from here is blocked until "
        f"{local:%H:%M} {local.tzname()} (in {minutes} minute{'s' if minutes != 1 else ''}). "
        "Try again then, or ask an administrator to unlock the account sooner."
    )


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> TemplateResponse:
    """The admin's login page saying what happened and when to retry (429, Retry-After).

    django-axes calls this (AXES_LOCKOUT_CALLABLE) instead of its plain-text page.
    """
    from axes.helpers import get_client_username

    username = get_client_username(request, credentials) or ""
    until = retry_at(username=username, ip_address=getattr(request, "axes_ip_address", None))
    site = admin.site
    context = {
        **site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "next": request.POST.get("next", ""),
        "form": site.login_form(request, initial={"username": username}),
        "lockout_message": lockout_message(username=username, until=until),
    }
    response = TemplateResponse(request, site.login_template, context, status=429)
    if until is not None:
        seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
        response["Retry-After"] = str(seconds)
    response.render()
    return response
