import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, IntegrityError
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from explainers import page_cache
from explainers.models import Explainer
from explainers.page_cache import sessionless
from newsroom.db import retry_on_dropped_connection
from newsroom.middleware import form_charset_problem

from . import guards
from .forms import FollowUpForm, VoteForm
from .services import rating_record

ACCEPTED_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
# A vote with the longest comment is well under this; anything bigger is not a reader's vote.
MAX_BODY_BYTES = 16 * 1024
READER_TOKEN_LENGTH = 32
HONEYPOT_FIELD = "website"
SLUG_LENGTH = Explainer._meta.get_field("slug").max_length

logger = logging.getLogger(__name__)


@retry_on_dropped_connection
def votable(slug: str) -> tuple[int, int] | None:
    """(id, version readers see) of the published explainer at ``slug``, or None.

    Filed in the cache under the version of the "home" key, which every change to what is
    published gives a new version (page_cache), so a vote does not look the explainer up in
    the database each time and any change is seen at once. And under the version of ``ALL``,
    which a change lost in a cache outage leaves as the only sign of it (page_cache.repay).
    Only explainers that exist are filed: a slug anyone can make up is never stored.
    """
    if len(slug) > SLUG_LENGTH:
        # No explainer has it; nor is a key of any length made of what anyone may send.
        return None
    versions = page_cache.settle_versions(["home", page_cache.ALL])
    key = f"votable:{versions['home']}:{versions[page_cache.ALL]}:{slug}"
    found = cache.get(key)
    if found is None:
        explainer = (
            Explainer.objects.published().public_filter(slug=slug).with_public_revision().first()
        )
        if explainer is None:
            return None
        found = (explainer.pk, explainer.live_version)
        cache.set(key, found, timeout=settings.PUBLIC_CACHE_SECONDS)
    return found


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def error_response(
    request, status: int, message: str, back_url: str = "", form: FollowUpForm | None = None
) -> HttpResponse:
    """A short, plain message for the reader (HTML) or the script (JSON) that sent the post.

    With ``form`` (a follow-up sent without JavaScript) the page shows that form again, as the
    reader filled it in, with its errors, instead of the message.
    """
    if wants_json(request):
        response = JsonResponse({"ok": False, "error": message}, status=status)
    else:
        html = render_to_string(
            "feedback/error.html",
            {"message": message, "back_url": back_url, "status": status, "form": form},
            request=request,
        )
        response = HttpResponse(html, status=status)
    response["Cache-Control"] = "no-store"
    return response


def unavailable_response(request, back_url: str = "") -> HttpResponse:
    """503 while the database or the shared rate-limit counters cannot take votes."""
    logger.exception("A vote could not be read or recorded")
    response = error_response(
        request,
        503,
        "Your vote could not be recorded just now. Please try again in a minute.",
        back_url=back_url,
    )
    response["Retry-After"] = "60"
    return response


def read_form(request):
    """The posted fields, or an (status, message) pair saying why they cannot be read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None, (400, "The Content-Length header is not a number.")
    if length > MAX_BODY_BYTES:
        return None, (413, f"The request is too large: at most {MAX_BODY_BYTES} bytes.")
    if request.content_type not in ACCEPTED_CONTENT_TYPES:
        return None, (
            400,
            "Send the vote as a form (application/x-www-form-urlencoded or multipart/form-data).",
        )
    if message := form_charset_problem(request):
        return None, (400, message)
    try:
        return request.POST, None
    except RequestDataTooBig:
        return None, (413, f"The request is too large: at most {MAX_BODY_BYTES} bytes.")
    # BadRequest and SuspiciousOperation: whatever else Django refuses to parse (too many
    # fields…); caught here so that no debug page reads the body again and fails.
    except (
        MultiPartParserError,
        UnicodeDecodeError,
        ValueError,
        BadRequest,
        SuspiciousOperation,
    ):
        return None, (400, "The form data could not be read.")


@sessionless  # Readers have no session or account: the cookie below is all a vote reads.
@csrf_exempt  # Same-origin checks in guards replace the token a cached page cannot carry.
@never_cache
def vote(request, slug):
    """Record a reader's answer to "Do you find this article useful?"."""
    if refused := refusal(request, slug):
        return refused
    data, problem = read_form(request)
    if problem:
        return error_response(request, *problem)
    try:
        target = votable(slug)
    except DatabaseError:
        return unavailable_response(request, back_url=page_url(slug))
    if target is None:
        return error_response(request, 404, "There is no published explainer at this address.")
    form = VoteForm(data)
    if not form.is_valid():
        return invalid_vote_response(request, slug, data, form)
    token = reader_token(request)
    # Bots fill the hidden field; they get the reader's answer and nothing is stored.
    if not data.get(HONEYPOT_FIELD) and (failed := record_vote(request, slug, target, form, token)):
        return failed
    return thanks_response(request, slug, form, token)


def refusal(request, slug: str) -> HttpResponse | None:
    """Why the post is refused before its body is read: wrong method, other site, too many."""
    if request.method != "POST":
        response = error_response(request, 405, "Votes are sent with POST.")
        response["Allow"] = "POST"
        return response
    if guards.is_cross_site(request):
        return error_response(request, 403, "Votes are accepted only from this site's pages.")
    try:
        over_limit = guards.over_rate_limit(request)
    except guards.CountersUnavailable:
        # Only with NEWSROOM_RATELIMIT_FAIL_CLOSED: uncounted votes are refused until Redis is
        # back, where by default they are let through (guards.over_rate_limit).
        response = error_response(
            request,
            503,
            "Votes cannot be counted just now, so they are not taken. "
            "Please try again in a minute.",
            back_url=page_url(slug),
        )
        response["Retry-After"] = "60"
        return response
    if over_limit:
        response = error_response(
            request, 429, "Too many votes from your connection. Please wait a minute and try again."
        )
        response["Retry-After"] = str(guards.parse_rate(settings.FEEDBACK_RATE_LIMIT)[1])
        return response
    return None


def invalid_vote_response(request, slug: str, data, form: VoteForm) -> HttpResponse:
    """400 with the form's errors; a readable vote with a bad follow-up gets its form back."""
    message = " ".join(error for errors in form.errors.values() for error in errors)
    followup = None
    if not wants_json(request) and "useful" not in form.errors:
        # The vote was readable, the rest was not: let the reader put it right.
        vote_url = reverse("feedback:vote", args=[slug])
        followup = FollowUpForm(data, vote=form.cleaned_data["useful"], action=vote_url)
        # The page shows the error summary itself, above its heading, as GOV.UK does.
        followup.helper.form_show_errors = False
    return error_response(request, 400, message, back_url=page_url(slug), form=followup)


def reader_token(request) -> str:
    """The reader's token from their cookie, or a new one when it is missing or malformed."""
    token = request.COOKIES.get(settings.FEEDBACK_COOKIE_NAME, "")
    if len(token) != READER_TOKEN_LENGTH or not token.isalnum():
        token = new_reader_token()
    return token


def record_vote(
    request, slug: str, target: tuple[int, int], form: VoteForm, token: str
) -> HttpResponse | None:
    """Store the vote; the error to answer with when it cannot be, else None."""
    explainer_id, version = target
    try:
        rating_record(
            explainer_id=explainer_id,
            explainer_version=version,
            reader_token=token,
            useful=form.cleaned_data["useful"] == "yes",
            reason=form.cleaned_data["reason"],
            comment=form.cleaned_data["comment"],
        )
    except IntegrityError:
        # Deleted since it was cached as votable: as gone as any other unknown address.
        return error_response(request, 404, "There is no published explainer at this address.")
    except DatabaseError:
        return unavailable_response(request, back_url=page_url(slug))
    return None


def thanks_response(request, slug: str, form: VoteForm, token: str) -> HttpResponse:
    """The reader's answer (JSON, or a 303 back to the page) carrying their token's cookie."""
    follow_up = bool(form.cleaned_data["reason"] or form.cleaned_data["comment"])
    if wants_json(request):
        response = JsonResponse(
            {
                "ok": True,
                "useful": form.cleaned_data["useful"],
                "message": "Thanks for telling us more."
                if follow_up
                else "Thank you for your feedback.",
            }
        )
    else:
        query = f"voted={form.cleaned_data['useful']}" + ("&sent=1" if follow_up else "")
        response = HttpResponseRedirect(f"{page_url(slug)}?{query}#feedback")
        response.status_code = 303
    response.set_cookie(
        settings.FEEDBACK_COOKIE_NAME,
        token,
        max_age=settings.FEEDBACK_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def page_url(slug: str) -> str:
    return reverse("explainers:detail", args=[slug])


def new_reader_token() -> str:
    """128 random bits as 32 hex digits: a cookie value that needs no quoting."""
    return secrets.token_hex(READER_TOKEN_LENGTH // 2)
