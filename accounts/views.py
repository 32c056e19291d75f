"""The admin's two-factor pages: set up an authenticator app, and new recovery codes.

Both are reached by staff who have not set up two-factor authentication yet (which is why
``NewsroomAdminSite.account_view`` wraps them, not ``admin_view``), so each checks the
session itself: changing an existing set-up takes a session that gave a code.
"""

import segno
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe

from . import two_factor
from .forms import AuthenticatorSetupForm

TwoFactor = two_factor.TwoFactor
# The secret being set up lives in the (server-side) session until a code confirms it, so
# that reloading the page shows the same QR code and no half-made device is ever stored.
PENDING_KEY = "newsroom_pending_totp_key"


def _context(site, request, **extra) -> dict:
    state = two_factor.two_factor_state(request)
    return {
        **site.each_context(request),
        "title": "Two-factor authentication",
        "subtitle": None,
        "must_enrol": state == TwoFactor.ENROL,
        "required": two_factor.two_factor_required(request.user),
        **extra,
    }


def _codes_page(site, request, codes: list[str]) -> TemplateResponse:
    """The recovery codes, shown this once (the page is never cached)."""
    context = _context(site, request, codes=codes, title="Your recovery codes")
    return TemplateResponse(request, "admin/two_factor_codes.html", context)


def _log_in_again(site, request):
    return redirect_to_login(request.get_full_path(), reverse("admin:login", current_app=site.name))


def two_factor_view(site, request):
    """Status (GET), or set up an app: show its QR code and secret, then check its code."""
    user = request.user
    state = two_factor.two_factor_state(request)
    if state == TwoFactor.VERIFY:
        # An app is set up but this session never gave a code: no change without one.
        return _log_in_again(site, request)
    enabled = state == TwoFactor.VERIFIED and two_factor.has_authenticator(user)
    replacing = request.method == "POST" or "replace" in request.GET
    if enabled and not replacing:
        context = _context(
            site,
            request,
            enabled=True,
            codes_left=two_factor.recovery_codes_left(user),
        )
        return TemplateResponse(request, "admin/two_factor.html", context)

    key = request.session.get(PENDING_KEY)
    if not key:
        key = request.session[PENDING_KEY] = two_factor.new_authenticator_key()
    form = AuthenticatorSetupForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            codes = two_factor.enrol_authenticator(
                request=request, user=user, key=key, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form.add_error("code", error)
        else:
            request.session.pop(PENDING_KEY, None)
            return _codes_page(site, request, codes)
    uri = two_factor.authenticator_uri(user, key)
    context = _context(
        site,
        request,
        enabled=False,
        replacing=enabled,
        form=form,
        uri=uri,
        secret=two_factor.authenticator_secret(key),
        # segno writes only a <path> in an <svg>, from the URI alone: nothing to escape. A
        # white background keeps it readable by a phone under the admin's dark theme.
        qr_svg=mark_safe(
            segno.make(uri, error="m").svg_inline(scale=4, light="#fff", title="QR code")
        ),
    )
    return TemplateResponse(request, "admin/two_factor.html", context)


def recovery_codes_view(site, request):
    """POST: replace the recovery codes and show the new ones once; GET goes to the status."""
    if request.method != "POST":
        return redirect("admin:two_factor")
    state = two_factor.two_factor_state(request)
    if state == TwoFactor.VERIFY:
        return _log_in_again(site, request)
    if state != TwoFactor.VERIFIED or not two_factor.has_authenticator(request.user):
        return redirect("admin:two_factor")  # set up the app first; codes come with it
    return _codes_page(site, request, two_factor.replace_recovery_codes(user=request.user))
