import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from explainers import text
from explainers.models import Explainer, SlugRedirect
from explainers.services import explainer_publish, explainer_unpublish, unique_slug
from tests.factories import ExplainerFactory, editor

pytestmark = pytest.mark.django_db


def test_published_includes_a_published_explainer():
    """published() returns an explainer whose publication time has come."""
    explainer = ExplainerFactory(published=True)
    assert list(Explainer.objects.published()) == [explainer]


def test_published_excludes_drafts():
    """published() never returns a draft."""
    ExplainerFactory()
    assert not Explainer.objects.published().exists()


def test_published_excludes_unpublished():
    """published() never returns an explainer taken off the site."""
    explainer = ExplainerFactory(published=True)
    Explainer.objects.filter(pk=explainer.pk).update(status=Explainer.Status.UNPUBLISHED)
    assert not Explainer.objects.published().exists()


def test_published_excludes_future_publication_time():
    """published() hides an explainer until its publication time."""
    ExplainerFactory(published=True, published_at=timezone.now() + timedelta(minutes=5))
    assert not Explainer.objects.published().exists()


def test_published_excludes_an_explainer_never_approved():
    """A row marked published without a live revision shows nothing to readers."""
    explainer = ExplainerFactory(published=True)
    Explainer.objects.filter(pk=explainer.pk).update(live_revision=None)
    assert not Explainer.objects.published().exists()


def test_database_refuses_published_without_time():
    """The database itself refuses a published explainer with no publication time."""
    with pytest.raises(IntegrityError), transaction.atomic():
        ExplainerFactory(status=Explainer.Status.PUBLISHED, published_at=None)


def test_database_refuses_image_without_alt_text():
    """The database itself refuses a lead image without a description."""
    explainer = ExplainerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Explainer.objects.filter(pk=explainer.pk).update(image="explainers/x.png", image_alt="")


def test_summary_is_the_first_sentence_despite_abbreviations():
    """The list summary is What's Happening's first sentence, not cut at "U.S."."""
    explainer = ExplainerFactory.build(
        whats_happening="The U.S. envoy Mr. Witkoff spoke on Monday. Leaders listened."
    )
    assert explainer.summary == "The U.S. envoy Mr. Witkoff spoke on Monday."


def test_summary_skips_a_first_sentence_that_is_the_headline():
    """When the headline is the first sentence (an import's), the summary is the next one."""
    explainer = ExplainerFactory.build(
        headline="Leaders met in Washington.",
        whats_happening="Leaders met  in Washington.\n\nThey agreed to talk. Then left.",
    )
    assert explainer.summary == "They agreed to talk."
    explainer.whats_happening = "Leaders met in Washington."
    assert explainer.summary == "Leaders met in Washington."


# Words, abbreviations, runs of initials, sentence ends, quotes and every kind of white space.
PIECES = st.sampled_from(
    ["word", "U.S.", "Mr.", "Sept.", "A.B.C.D.E.F.G.H.I.J.K.L.M.N.O.P.Q.R.S.T.U.V.W.X.Y.Z."]
    + list("aZ.!?'\")]\u201d\u2019 \t\n\r\u00a0")
)


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join) | st.text(max_size=80))
def test_the_first_sentence_is_the_same_in_text_laid_out_or_flattened(raw):
    """first_sentence() finds in the text as stored what it finds in the text on one line."""
    flat = " ".join(raw.split())
    assert text.first_sentence(raw) == text.first_sentence(flat)
    assert flat.startswith(text.first_sentence(raw))


@given(st.text(max_size=200))
def test_paragraphs_are_the_text_between_blank_lines_on_one_line_each(raw):
    """Each paragraph is its lines joined by single spaces, whatever white space they held."""
    expected = [
        re.sub(r"\s+", " ", chunk).strip()
        for chunk in re.split(r"\n[ \t\r\f\v]*\n", raw.replace("\r\n", "\n").replace("\r", "\n"))
        if chunk.strip()
    ]
    assert text.paragraphs(raw) == expected


def test_sections_come_in_reading_order_with_paragraphs():
    """sections() yields the three headings in order, each with its paragraphs."""
    explainer = ExplainerFactory.build(
        whats_happening="One.\n\nTwo\nlines.", why_its_important="Three.", whats_next="Four."
    )
    assert explainer.sections() == [
        ("whats_happening", "What's Happening?", ["One.", "Two lines."]),
        ("why_its_important", "Why It's Important?", ["Three."]),
        ("whats_next", "What's Next?", ["Four."]),
    ]


def test_paragraphs_ignore_extra_blank_lines_and_crlf():
    """Blank lines, however many and however ended, only separate paragraphs."""
    assert text.paragraphs("\r\nA\r\n\r\n \r\n\r\nB\r\n") == ["A", "B"]


def test_unique_slug_adds_a_number_when_taken():
    """A slug already in use gets -2, then -3."""
    ExplainerFactory(slug="talks-resume")
    ExplainerFactory(slug="talks-resume-2")
    assert unique_slug("Talks resume") == "talks-resume-3"


def test_unique_slug_of_a_headline_without_letters():
    """A headline with nothing sluggable still yields a usable slug."""
    assert unique_slug("¿?") == "explainer"


def test_publish_sets_time_and_keeps_first_publication():
    """Publishing stamps the time once; re-publishing keeps the first time."""
    user = editor()
    explainer = ExplainerFactory()
    explainer_publish(explainer=explainer, user=user)
    first = explainer.published_at
    assert explainer.is_public and explainer.updated_by == user
    explainer_unpublish(explainer=explainer, user=user)
    assert explainer.status == Explainer.Status.UNPUBLISHED
    explainer_publish(explainer=explainer, user=user)
    explainer.refresh_from_db()
    assert explainer.published_at == first


def test_unique_slug_skips_slugs_that_still_redirect():
    """A slug kept as a redirect is not handed to a new explainer."""
    explainer = ExplainerFactory(published=True, slug="talks")
    SlugRedirect.objects.create(old_slug="talks-resume", explainer=explainer)
    assert unique_slug("Talks resume") == "talks-resume-2"


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,x"],
)
def test_a_source_address_other_than_http_is_refused(url):
    """Sources are http(s) only: a javascript: or data: address never reaches the page."""
    from django.core.exceptions import ValidationError

    from explainers.models import Source

    source = Source(explainer=ExplainerFactory(), label="x", url=url)
    with pytest.raises(ValidationError):
        source.full_clean()


# first_sentence() against the implementation it replaced.


def old_first_sentence(value: str) -> str:
    # The patterns are unchanged; what changed is where they are applied.
    flat = re.sub(r"\s+", " ", value or "").strip()
    for match in text._SENTENCE_END.finditer(flat):
        if not text._ABBREVIATION.search(flat[: match.end()]):
            return flat[: match.end()]
    return flat


OLD_PIECES = st.sampled_from(
    [
        "word",
        "U.S.",
        "Mr.",
        "Sept.",
        "xMr.",
        "éMr.",
        "_Dr.",
        "1No.",
        "A.B.",
        "a" * 38,
        "A." * 25,
        "Q.R.S",
        "...",
        "?!",
    ]
    + list("aZé_1.!?'\")]\u201d\u2019 \t\n\r\x0b\x0c\x1c\x1f\x85\u00a0\u2028\u3000")
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(OLD_PIECES, max_size=60).map("".join) | st.text(max_size=120))
def test_first_sentence_is_what_it_was(raw):
    """first_sentence() returns what the flatten-then-scan implementation returned."""
    assert text.first_sentence(raw) == old_first_sentence(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "See the " + "A." * 30 + " Then more.",
        "a" * 37 + "Mr. Smith spoke. Then.",
        "x" * 36 + "A.B. Next one. Done.",
        "The U.S.\n\nenvoy spoke. Then.",
        "Dr.\u00a0Who arrived. Then.",
        " \n Leading space. Then.",
        "No end at all",
        "Ends at the end.",
        "Quote ends.\u201d Next.",
    ],
)
def test_first_sentence_examples_are_what_they_were(raw):
    """Runs of initials longer than the window, abbreviations at its edge, odd space."""
    assert text.first_sentence(raw) == old_first_sentence(raw)
