"""Project-wide middleware."""

import codecs
from functools import cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.core.signals import setting_changed
from django.http import HttpResponseBadRequest, UnreadablePostError
from django.template.loader import render_to_string

UNREADABLE_FORM = "The form sent could not be read. Send it again from the site's own page."
BAD_CONTENT_LENGTH = "The Content-Length header is not a whole number."
TOO_MANY_PARAMETERS = "The address has too many parameters."


def cross_origin_resource_policy(get_response):
    """``Cross-Origin-Resource-Policy: same-origin`` on every response, static files included:
    other sites' pages cannot load the site's pages, scripts or images into theirs."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response

    return middleware


@cache
def site_policies() -> tuple[str, str]:
    """The site's Content-Security-Policy and its report-only twin, built from the settings."""
    return build_policy(), build_policy(report_only=True)


def settings_changed(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        site_policies.cache_clear()


setting_changed.connect(settings_changed)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site's one policy built once per process.

    Every response gets the same policy (no nonces, no per-view policies, no excluded paths),
    and building it again for each took a tenth of the time of a stored page. A response
    that asks for anything of its own still goes through django-csp's whole path.
    """

    def process_response(self, request, response):
        default = PolicyParts()
        if (
            self.get_policy_parts(request, response) != default
            or self.get_policy_parts(request, response, report_only=True) != default
            or getattr(response, "_csp_exempt", False)
            or getattr(response, "_csp_exempt_ro", False)
            or settings.DEBUG
            or any(
                (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
                for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
            )
        ):
            return super().process_response(request, response)
        policy, report_only = site_policies()
        if policy and HEADER not in response:
            response[HEADER] = policy
        if report_only and HEADER_REPORT_ONLY not in response:
            response[HEADER_REPORT_ONLY] = report_only
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


def bad_request(message: str) -> HttpResponseBadRequest:
    """The site's 400 page saying ``message``, rendered without the request, as Django's own
    handler does, so that nothing in the page can trip on the request that was bad."""
    response = HttpResponseBadRequest(render_to_string("400.html", {"message": message}))
    response["Cache-Control"] = "no-store"
    return response


class UnreadableRequestMiddleware:
    """Answer 400, in the site's design and with a message, a request Django cannot read.

    Django raises while parsing such a request (a urlencoded form in another charset than
    UTF-8, more parameters than ``DATA_UPLOAD_MAX_NUMBER_FIELDS``, a Content-Length that is not
    a number) wherever it is first read: in the CSRF check, in a view. Its handler then answers
    400, except under DEBUG, where the debug page reads the request again, raises again and the
    reader gets a bare 500. Reading it here first, and answering 400 at once, avoids both.

    Views exempt from CSRF read their own form and answer its problems themselves (the vote
    endpoint answers in JSON to its script), so their bodies are left to them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.GET  # noqa: B018 - parsed here so that a bad query string fails here
        except (BadRequest, SuspiciousOperation):
            return bad_request(TOO_MANY_PARAMETERS)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        return form_problem(request)


def form_problem(request) -> HttpResponseBadRequest | None:
    """A 400 saying why the posted form of ``request`` cannot be read, or None if it can.

    Only urlencoded bodies are read here: a multipart body Django cannot parse is set to empty
    by Django itself, so nothing trips on it twice, and it is left to be read (and its files
    stored) only by what needs it.
    """
    try:
        int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return bad_request(BAD_CONTENT_LENGTH)
    if request.content_type != "application/x-www-form-urlencoded":
        return None
    if message := form_charset_problem(request):
        return bad_request(message)
    try:
        request.POST  # noqa: B018 - parsed here so that a bad body fails here
    except (BadRequest, SuspiciousOperation, UnreadablePostError):
        return bad_request(UNREADABLE_FORM)
    return None


def form_charset_problem(request) -> str | None:
    """Why a urlencoded form cannot be read for its charset, or None.

    Such a form is always UTF-8 (the HTML standard), and Django refuses to read one that names
    another charset. A name of UTF-8 other than Django's own spelling ("utf8", "UTF_8") is
    taken for what it is instead of refused.
    """
    if request.content_type != "application/x-www-form-urlencoded" or not request.encoding:
        return None
    if codecs.lookup(request.encoding).name == "utf-8":
        request.encoding = "utf-8"
        return None
    return f"Forms must be sent as UTF-8, not {request.encoding}."
