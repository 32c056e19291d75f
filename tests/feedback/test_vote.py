import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from explainers import page_cache
from explainers.services import explainer_publish, explainer_unpublish
from feedback import views
from feedback.models import Rating
from feedback.services import rating_record
from feedback.views import MAX_BODY_BYTES, votable
from tests.factories import ExplainerFactory

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def explainer():
    return ExplainerFactory(published=True)


def vote_url(explainer):
    return reverse("feedback:vote", args=[explainer.slug])


def test_vote_without_javascript_redirects_to_thank_you(client, explainer):
    """A plain form post records the vote and answers 303 to the page's thank-you variant."""
    response = client.post(vote_url(explainer), {"useful": "no"})
    assert response.status_code == 303
    assert response["Location"] == f"{explainer.get_absolute_url()}?voted=no#feedback"
    rating = Rating.objects.get()
    assert rating.useful is False and rating.explainer == explainer


def test_thank_you_variant_shows_follow_up_and_is_cacheable(client, explainer):
    """?voted=no shows thanks and the "What was wrong?" form, with the page's cache headers."""
    response = client.get(explainer.get_absolute_url(), {"voted": "no"})
    assert "Thank you for your feedback." in response.text
    assert "What was wrong?" in response.text
    assert "public" in response["Cache-Control"] and not response.cookies


def test_vote_with_json_answers_json(client, explainer):
    """A script asking for JSON gets JSON and no redirect."""
    response = client.post(vote_url(explainer), {"useful": "yes"}, **JSON)
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "useful": "yes",
        "message": "Thank you for your feedback.",
    }


def test_vote_sets_a_private_reader_cookie(client, explainer):
    """The vote response sets the random reader cookie, HttpOnly and SameSite=Lax."""
    response = client.post(vote_url(explainer), {"useful": "yes"})
    cookie = response.cookies["newsroom_reader"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert len(cookie.value) == 32
    assert cookie.value not in Rating.objects.get().reader


def test_voting_again_changes_the_vote(client, explainer):
    """A reader's second vote replaces the first; it is never counted twice."""
    client.post(vote_url(explainer), {"useful": "yes"})
    client.post(vote_url(explainer), {"useful": "no"})
    assert Rating.objects.count() == 1
    assert Rating.objects.get().useful is False


def test_two_readers_are_two_votes(client, explainer):
    """Readers without each other's cookie each count once."""
    client.post(vote_url(explainer), {"useful": "yes"})
    client.cookies.clear()
    client.post(vote_url(explainer), {"useful": "yes"})
    assert Rating.objects.count() == 2


def test_follow_up_updates_the_same_vote(client, explainer):
    """The follow-up adds a reason and comment to the reader's vote."""
    client.post(vote_url(explainer), {"useful": "no"})
    response = client.post(
        vote_url(explainer),
        {"useful": "no", "reason": "out-of-date", "comment": "The talks happened already."},
    )
    assert response["Location"].endswith("?voted=no&sent=1#feedback")
    rating = Rating.objects.get()
    assert (rating.reason, rating.comment) == ("out-of-date", "The talks happened already.")


def test_vote_records_the_version_readers_see(client, explainer):
    """A vote records the live version, not a pending edit readers have not seen."""
    explainer.whats_next = "An edited outlook."
    explainer.save()
    assert explainer.version == 2
    client.post(vote_url(explainer), {"useful": "yes"})
    assert Rating.objects.get().explainer_version == 1
    explainer_publish(explainer=explainer, user=None)
    client.post(vote_url(explainer), {"useful": "no"})
    assert Rating.objects.get().explainer_version == 2


def test_explainer_version_rises_only_with_content_changes(explainer):
    """Saving without changing the text keeps the version; changing it adds one."""
    explainer.save()
    assert explainer.version == 1
    explainer.headline = "A clearer headline"
    explainer.save()
    explainer.refresh_from_db()
    assert explainer.version == 2


def test_page_stays_identical_for_every_reader(client, explainer):
    """The page has no per-reader token or cookie: a voter and a newcomer get the same bytes."""
    first = client.get(explainer.get_absolute_url())
    client.post(vote_url(explainer), {"useful": "yes"})
    second = client.get(explainer.get_absolute_url())
    assert first.content == second.content
    assert "Set-Cookie" not in second.headers and "csrfmiddlewaretoken" not in second.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Missing vote"),
        ({"useful": "maybe"}, "Unknown vote maybe"),
        ({"useful": "no", "reason": "boring"}, "Unknown reason boring"),
        ({"useful": "yes", "reason": "too-long"}, "A reason goes only with useful=no."),
        ({"useful": "no", "comment": "x" * 601}, "The comment is too long"),
        ({"useful": "no", "comment": "nul\x00byte"}, "Null characters are not allowed."),
        ({"useful": "y\x00es"}, "Unknown vote"),
    ],
)
def test_bad_votes_are_400_with_a_message(client, explainer, data, message):
    """Each kind of bad vote answers 400 saying what was wrong, and stores nothing."""
    response = client.post(vote_url(explainer), data, **JSON)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Rating.objects.exists()


def test_bad_vote_without_javascript_is_a_readable_page(client, explainer):
    """A bad plain-form vote answers a 400 page with the message and a way back."""
    response = client.post(vote_url(explainer), {"useful": "maybe"})
    assert response.status_code == 400
    assert "Unknown vote maybe" in response.text
    assert explainer.get_absolute_url() in response.text


def test_wrong_content_type_is_400(client, explainer):
    """A JSON body is refused with a message naming the accepted types."""
    response = client.post(
        vote_url(explainer), '{"useful": "yes"}', content_type="application/json", **JSON
    )
    assert response.status_code == 400
    assert "application/x-www-form-urlencoded" in response.json()["error"]
    assert not Rating.objects.exists()


LATIN_1_FORM = "application/x-www-form-urlencoded; charset=latin-1"


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_non_utf8_charset_is_400_with_a_message(client, explainer, settings, debug):
    """A form naming latin-1 is refused with the vote's own 400 and message, DEBUG on or off."""
    settings.DEBUG = debug
    response = client.post(
        vote_url(explainer), "useful=no&comment=caf%E9", content_type=LATIN_1_FORM, **JSON
    )
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": "Forms must be sent as UTF-8, not latin-1."}
    assert not Rating.objects.exists()


def test_non_utf8_charset_without_javascript_is_the_votes_error_page(client, explainer, settings):
    """Without JavaScript the refusal is the feedback error page, under DEBUG too."""
    settings.DEBUG = True
    response = client.post(vote_url(explainer), "useful=no", content_type=LATIN_1_FORM)
    assert response.status_code == 400
    assert "Your feedback was not recorded" in response.text
    assert "Forms must be sent as UTF-8, not latin-1." in response.text


def test_utf8_charset_spelt_another_way_is_accepted(client, explainer):
    """charset=UTF8 is UTF-8: the vote is recorded, not refused as Django would."""
    response = client.post(
        vote_url(explainer),
        "useful=no&comment=caf%C3%A9",
        content_type="application/x-www-form-urlencoded; charset=UTF8",
        **JSON,
    )
    assert response.status_code == 200
    assert Rating.objects.get().comment == "café"


def test_too_many_fields_is_400_under_debug(client, explainer, settings):
    """More fields than Django parses is the vote's 400, not a failing debug page."""
    settings.DEBUG = True
    response = client.post(
        vote_url(explainer),
        "useful=no&" + "a=1&" * 1100,
        content_type="application/x-www-form-urlencoded",
        **JSON,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "The form data could not be read."


def test_oversized_body_is_413(client, explainer):
    """A body larger than any real vote is refused before it is read."""
    response = client.post(
        vote_url(explainer),
        "useful=yes&comment=" + "x" * MAX_BODY_BYTES,
        content_type="application/x-www-form-urlencoded",
        **JSON,
    )
    assert response.status_code == 413
    assert not Rating.objects.exists()


def test_get_is_405(client, explainer):
    """The endpoint only takes POST."""
    response = client.get(vote_url(explainer))
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_unknown_explainer_is_404(client):
    """A vote for a slug that does not exist answers 404."""
    response = client.post("/explainers/nothing-here/feedback/", {"useful": "yes"}, **JSON)
    assert response.status_code == 404


def test_draft_explainer_is_404(client):
    """A vote for a draft answers 404 and stores nothing."""
    draft = ExplainerFactory()
    assert client.post(vote_url(draft), {"useful": "yes"}).status_code == 404
    assert not Rating.objects.exists()


def test_cross_site_post_is_403(client, explainer):
    """A post the browser marks as cross-site is refused."""
    response = client.post(
        vote_url(explainer), {"useful": "yes"}, HTTP_SEC_FETCH_SITE="cross-site", **JSON
    )
    assert response.status_code == 403
    assert not Rating.objects.exists()


def test_foreign_origin_is_403(client, explainer):
    """A post from another origin (older browsers: Origin only) is refused."""
    response = client.post(vote_url(explainer), {"useful": "yes"}, HTTP_ORIGIN="https://evil.test")
    assert response.status_code == 403


def test_same_origin_post_without_token_works(client, explainer):
    """A same-origin browser post needs no CSRF token."""
    client.handler.enforce_csrf_checks = True
    response = client.post(
        vote_url(explainer),
        {"useful": "yes"},
        HTTP_SEC_FETCH_SITE="same-origin",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 303


def _vote_status(client, explainer, **headers) -> int:
    return client.post(vote_url(explainer), {"useful": "yes"}, **headers).status_code


def test_null_origin_without_fetch_metadata_is_403(client, explainer):
    """A post with Origin "null" and no Sec-Fetch-Site (a sandboxed frame, a data: page) is
    refused as cross-site."""
    assert _vote_status(client, explainer, HTTP_ORIGIN="null") == 403
    assert not Rating.objects.exists()


def test_same_origin_by_origin_alone_is_accepted(client, explainer):
    """A browser without Fetch Metadata that sends its own Origin gets its vote counted."""
    assert _vote_status(client, explainer, HTTP_ORIGIN="http://testserver") == 303
    assert Rating.objects.count() == 1


def test_trusted_origin_by_origin_alone_is_accepted(client, explainer, settings):
    """A post from an origin in CSRF_TRUSTED_ORIGINS (the site's other address) is accepted."""
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.example.test"]
    assert _vote_status(client, explainer, HTTP_ORIGIN="https://www.example.test") == 303


def test_origin_of_another_http_site_is_403(client, explainer):
    """A plain-http origin of another host is refused, whatever its name sorts like."""
    assert _vote_status(client, explainer, HTTP_ORIGIN="http://attacker.test") == 403
    assert _vote_status(client, explainer, HTTP_ORIGIN="http://zzz.test") == 403


def test_origin_of_another_port_is_403(client, explainer):
    """The same host on another port is another origin, and refused."""
    assert _vote_status(client, explainer, HTTP_ORIGIN="http://testserver:8080") == 403


def test_same_origin_by_referer_alone_is_accepted(client, explainer):
    """A post with neither Sec-Fetch-Site nor Origin is judged by its Referer: our own page."""
    referer = f"http://testserver{explainer.get_absolute_url()}?x=1"
    assert _vote_status(client, explainer, HTTP_REFERER=referer) == 303
    assert Rating.objects.count() == 1


def test_foreign_referer_alone_is_403(client, explainer):
    """A post whose only clue is another site's Referer is refused."""
    assert _vote_status(client, explainer, HTTP_REFERER="https://evil.test/page") == 403


def test_no_origin_headers_at_all_is_accepted(client, explainer):
    """A post with no Sec-Fetch-Site, Origin or Referer (no browser sends a cross-site form
    post so) is accepted."""
    assert _vote_status(client, explainer) == 303


def test_sec_fetch_site_none_is_accepted(client, explainer):
    """Sec-Fetch-Site "none" (the reader's own action, such as a bookmark) is accepted."""
    assert _vote_status(client, explainer, HTTP_SEC_FETCH_SITE="none") == 303


def test_sec_fetch_site_same_site_is_403(client, explainer):
    """A post from a sibling subdomain (Sec-Fetch-Site "same-site") is refused."""
    assert _vote_status(client, explainer, HTTP_SEC_FETCH_SITE="same-site") == 403


def test_sec_fetch_site_outranks_origin(client, explainer):
    """The browser's Sec-Fetch-Site decides, whatever Origin or Referer say."""
    foreign = {"HTTP_ORIGIN": "https://evil.test", "HTTP_REFERER": "https://evil.test/"}
    assert _vote_status(client, explainer, HTTP_SEC_FETCH_SITE="same-origin", **foreign) == 303
    own = {"HTTP_ORIGIN": "http://testserver", "HTTP_REFERER": "http://testserver/"}
    assert _vote_status(client, explainer, HTTP_SEC_FETCH_SITE="cross-site", **own) == 403


def test_honeypot_stores_nothing(client, explainer):
    """A post that fills the hidden honeypot field looks accepted but is not stored."""
    response = client.post(vote_url(explainer), {"useful": "yes", "website": "http://spam"})
    assert response.status_code == 303
    assert not Rating.objects.exists()


def test_rate_limit_answers_429(client, explainer, settings):
    """Past FEEDBACK_RATE_LIMIT posts a client gets 429 with a message."""
    settings.FEEDBACK_RATE_LIMIT = "2/m"
    for _ in range(2):
        assert client.post(vote_url(explainer), {"useful": "yes"}).status_code == 303
    response = client.post(vote_url(explainer), {"useful": "no"}, **JSON)
    assert response.status_code == 429
    assert "Too many votes" in response.json()["error"]
    assert response["Retry-After"] == "60"
    assert Rating.objects.get().useful is True


def test_rate_limit_is_per_client(client, explainer, settings):
    """Another client address has its own allowance."""
    settings.FEEDBACK_RATE_LIMIT = "1/m"
    client.post(vote_url(explainer), {"useful": "yes"}, REMOTE_ADDR="10.0.0.1")
    response = client.post(vote_url(explainer), {"useful": "yes"}, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 303


def test_vote_makes_one_query_once_the_explainer_is_cached(
    client, explainer, django_assert_num_queries
):
    """A vote is one statement; the explainer is looked up only when the cache misses."""
    with django_assert_num_queries(2):
        client.post(vote_url(explainer), {"useful": "yes"})
    with django_assert_num_queries(1):
        client.post(vote_url(explainer), {"useful": "no"})


@pytest.mark.postgresql
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="synchronous_commit is a PostgreSQL setting"
)
@pytest.mark.django_db(transaction=True)  # the setting's lifetime is a real transaction's
def test_vote_commits_asynchronously_without_changing_the_connection():
    """A vote turns synchronous_commit off for the transaction it runs in, and no further."""
    explainer = ExplainerFactory(published=True)
    with transaction.atomic(), connection.cursor() as cursor:
        rating_record(
            explainer_id=explainer.pk,
            explainer_version=explainer.version,
            reader_token="a" * 32,
            useful=True,
        )
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert Rating.objects.filter(explainer=explainer).count() == 1


def test_database_down_is_503_and_stores_nothing(client, explainer, monkeypatch):
    """When the database cannot take the vote the reader is told to retry, not shown a 500."""
    views.votable(explainer.slug)  # cached, so the failure is the write's

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "rating_record", down)
    response = client.post(vote_url(explainer), {"useful": "yes"}, **JSON)
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "try again" in response.json()["error"]
    assert not response.cookies
    assert not Rating.objects.exists()


def test_database_down_before_the_lookup_is_503(client, explainer, monkeypatch):
    """A lookup the database cannot answer gets the same 503, with a way back to the page."""

    def down(slug):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "votable", down)
    response = client.post(vote_url(explainer), {"useful": "no"})
    assert response.status_code == 503
    assert explainer.get_absolute_url() in response.text
    assert not Rating.objects.exists()


def test_explainer_deleted_after_caching_is_404(client, explainer, monkeypatch):
    """A vote whose explainer row is gone (the foreign key refuses it) is a 404, not a 503."""
    views.votable(explainer.slug)

    def gone(**kwargs):
        raise IntegrityError("violates foreign key constraint")

    monkeypatch.setattr(views, "rating_record", gone)
    response = client.post(vote_url(explainer), {"useful": "yes"}, **JSON)
    assert response.status_code == 404
    assert "no published explainer" in response.json()["error"]


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")
@pytest.mark.django_db(transaction=True)  # the connection must outlive the test's transaction
def test_vote_survives_a_connection_the_server_dropped(client):
    """A persistent connection killed by the server (a restart) costs the reader nothing."""
    explainer = ExplainerFactory(published=True)
    views.votable(explainer.slug)
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    response = client.post(vote_url(explainer), {"useful": "no"}, **JSON)
    assert response.status_code == 200
    assert Rating.objects.filter(explainer=explainer, useful=False).count() == 1


@hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.dictionaries(
        st.sampled_from(["useful", "reason", "comment", "website", "x", ""]) | st.text(),
        st.text(max_size=700) | st.sampled_from(["yes", "no", "other", "too-long"]),
        max_size=5,
    )
)
def test_arbitrary_form_data_never_causes_a_server_error(client, explainer, settings, data):
    """Whatever form data arrives, the endpoint answers below 500."""
    settings.FEEDBACK_RATE_LIMIT = "100000/s"
    response = client.post(vote_url(explainer), data, **JSON)
    assert response.status_code < 500


def test_a_vote_for_an_address_longer_than_any_slug_is_a_404(client):
    """No explainer has a 5,000-character slug: 404, and no cache key is made of it."""
    response = client.post(
        "/explainers/" + "a" * 5000 + "/feedback/",
        {"useful": "yes"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 404
    assert response.json()["ok"] is False


def test_an_explainer_unpublished_in_an_outage_takes_no_votes_once_the_cache_answers(
    published_explainer, superuser, monkeypatch
):
    """A lost invalidation made good by a new ALL also ends the explainer's kept votability."""
    slug = published_explainer.slug
    assert votable(slug) is not None  # kept under the current versions
    with monkeypatch.context() as outage:
        outage.setattr(page_cache, "write_versions", lambda keys: False)
        explainer_unpublish(explainer=published_explainer, user=superuser)
    page_cache.OWED.clear()  # the process that owed the invalidation is gone
    page_cache.OWED.add(page_cache.ALL)  # another one saw the outage (owe_everything)
    page_cache.repay()
    assert votable(slug) is None
