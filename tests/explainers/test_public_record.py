import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from explainers import services
from explainers.models import Explainer, Notice, SlugRedirect
from explainers.structured_data import AI_REVIEWED_SOURCE_TYPE
from tests.factories import ExplainerFactory, UserFactory, editor, writer

pytestmark = pytest.mark.django_db


def json_ld(html: str) -> dict:
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


def rename(explainer: Explainer, slug: str) -> None:
    """A slug change as editors make it: saved, then published if the explainer is live."""
    explainer.slug = slug
    explainer.save()
    if explainer.live_revision_id:
        services.explainer_publish(explainer=explainer, user=None)


# Slugs


def test_old_slug_redirects_permanently(client):
    """A published explainer's old address answers 301 to the new one."""
    explainer = ExplainerFactory(published=True, slug="old-name")
    rename(explainer, "new-name")
    response = client.get("/explainers/old-name/")
    assert response.status_code == 301 and response["Location"] == "/explainers/new-name/"


def test_redirect_chains_collapse(client):
    """After two renames, the first address goes straight to the latest one."""
    explainer = ExplainerFactory(published=True, slug="first")
    rename(explainer, "second")
    rename(explainer, "third")
    assert client.get("/explainers/first/")["Location"] == "/explainers/third/"
    assert client.get("/explainers/second/")["Location"] == "/explainers/third/"


def test_renaming_back_drops_the_redirect(client):
    """Going back to an old slug serves the page there again, not a redirect loop."""
    explainer = ExplainerFactory(published=True, slug="a")
    rename(explainer, "b")
    rename(explainer, "a")
    assert client.get("/explainers/a/").status_code == 200
    assert client.get("/explainers/b/")["Location"] == "/explainers/a/"


def test_redirecting_slug_cannot_be_taken(client):
    """Another explainer cannot take a slug that still redirects."""
    explainer = ExplainerFactory(published=True, slug="taken")
    rename(explainer, "moved")
    assert services.slug_is_taken("taken", exclude_pk=ExplainerFactory().pk)


def test_draft_renames_leave_no_redirect():
    """A never-published explainer's renames make no redirects: no one knew the address."""
    explainer = ExplainerFactory(slug="draft-one")
    rename(explainer, "draft-two")
    assert not SlugRedirect.objects.exists()


def test_redirect_to_an_unpublished_explainer_is_404(client):
    """An old address of an explainer taken off the site answers 404, not a redirect."""
    explainer = ExplainerFactory(published=True, slug="gone")
    rename(explainer, "gone-too")
    services.explainer_unpublish(explainer=explainer, user=None)
    assert client.get("/explainers/gone/").status_code == 404


# Notices and corrections


def test_correction_shows_near_the_top_and_in_json_ld(client):
    """A correction sits above the sections, bumps Updated, and is a CorrectionComment."""
    explainer = ExplainerFactory(published=True, published_at=timezone.now() - timedelta(days=1))
    services.notice_add(
        explainer=explainer, user=editor(), kind="correction", text="The meeting is on Monday."
    )
    html = client.get(explainer.get_absolute_url()).text
    assert html.index("The meeting is on Monday.") < html.index('<h2 id="whats_happening">')
    assert "Updated <time" in html
    data = json_ld(html)
    assert data["correction"][0]["@type"] == "CorrectionComment"
    assert data["dateModified"] > data["datePublished"]


def test_update_notice_shows_at_the_end(client):
    """Updates, clarifications and editor's notes follow the sections."""
    explainer = ExplainerFactory(published=True)
    services.notice_add(explainer=explainer, user=editor(), kind="update", text="Talks resumed.")
    html = client.get(explainer.get_absolute_url()).text
    assert html.index("Talks resumed.") > html.index('<h2 id="whats_next">')


def test_writers_cannot_add_notices():
    """Only editors add notices."""
    with pytest.raises(PermissionDenied):
        services.notice_add(
            explainer=ExplainerFactory(published=True), user=writer(), kind="update", text="x"
        )


def test_notices_only_on_published_explainers():
    """A draft gets no notice: its text can still simply be fixed."""
    with pytest.raises(ValidationError):
        services.notice_add(explainer=ExplainerFactory(), user=editor(), kind="update", text="x")


def test_only_admins_hide_notices_with_a_reason(client):
    """Editors cannot hide a notice; an admin can, with a reason, and readers stop seeing it."""
    explainer = ExplainerFactory(published=True)
    notice = services.notice_add(explainer=explainer, user=editor(), kind="update", text="Oops.")
    with pytest.raises(PermissionDenied):
        services.notice_hide(notice=notice, user=editor(), reason="Duplicate")
    admin = UserFactory(is_staff=True, is_superuser=True)
    with pytest.raises(ValidationError):
        services.notice_hide(notice=notice, user=admin, reason=" ")
    services.notice_hide(notice=notice, user=admin, reason="Duplicate")
    assert Notice.objects.get().hidden_reason == "Duplicate"
    assert "Oops." not in client.get(explainer.get_absolute_url()).text


def test_a_hidden_notice_cannot_be_hidden_again():
    """Hiding a hidden notice is refused: who hid it, when and why stay as first recorded."""
    notice = services.notice_add(
        explainer=ExplainerFactory(published=True), user=editor(), kind="update", text="Oops."
    )
    first, second = (UserFactory(is_staff=True, is_superuser=True) for _ in range(2))
    services.notice_hide(notice=notice, user=first, reason="Duplicate")
    with pytest.raises(ValidationError):
        services.notice_hide(notice=Notice.objects.get(), user=second, reason="Rewritten")
    notice = Notice.objects.get()
    assert (notice.hidden_by, notice.hidden_reason) == (first, "Duplicate")


def test_corrections_page_lists_published_corrections_newest_first(client):
    """/corrections/ lists corrections on published explainers only, newest first."""
    first, second = ExplainerFactory(published=True), ExplainerFactory(published=True)
    with time_machine.travel(timezone.now() - timedelta(hours=1)):
        services.notice_add(explainer=first, user=editor(), kind="correction", text="Older fix")
    services.notice_add(explainer=second, user=editor(), kind="correction", text="Newer fix")
    services.notice_add(explainer=second, user=editor(), kind="update", text="Not a correction")
    services.explainer_unpublish(explainer=first, user=None)
    html = client.get(reverse("explainers:corrections")).text
    assert "Newer fix" in html
    assert "Older fix" not in html and "Not a correction" not in html


# AI disclosure on the page


def test_reviewed_ai_text_is_labelled_and_typed(client):
    """Reviewed AI text keeps its label, adds the review date and the IPTC source type."""
    explainer = ExplainerFactory(ai_generated=True)
    services.explainer_sign_off(explainer=explainer, user=editor())
    services.explainer_publish(explainer=explainer, user=editor())
    html = client.get(explainer.get_absolute_url()).text
    assert "AI Generated Content" in html and "Reviewed by an editor on" in html
    assert json_ld(html)["digitalSourceType"] == AI_REVIEWED_SOURCE_TYPE


def test_human_text_has_no_ai_source_type(client):
    """Text written by people carries no AI source type."""
    explainer = ExplainerFactory(published=True)
    html = client.get(explainer.get_absolute_url()).text
    assert "digitalSourceType" not in json_ld(html)


def test_readers_see_the_live_text_while_an_edit_waits(client):
    """The page keeps serving the approved text while an edit is pending."""
    explainer = ExplainerFactory(published=True, whats_next="Approved outlook.")
    explainer.whats_next = "Unapproved outlook."
    explainer.save()
    html = client.get(explainer.get_absolute_url()).text
    assert "Approved outlook." in html and "Unapproved outlook." not in html


# Preview links


@pytest.fixture
def shared_draft():
    explainer = ExplainerFactory(whats_next="Draft outlook.")
    link, token = services.preview_link_create(explainer=explainer, user=editor(), days=7)
    return explainer, link, token


def test_preview_link_shows_the_draft_privately(client, shared_draft):
    """Anyone with the link sees the draft, marked, not indexed and not cached."""
    _, _, token = shared_draft
    response = client.get(reverse("explainers:preview", args=[token]))
    assert response.status_code == 200
    assert "Draft outlook." in response.text and "Preview: not published." in response.text
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_preview_link_expires(client, shared_draft):
    """After its lifetime the link answers 404."""
    _, _, token = shared_draft
    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)):
        assert client.get(reverse("explainers:preview", args=[token])).status_code == 404


def test_revoked_preview_link_is_404(client, shared_draft):
    """A revoked link answers 404."""
    _, link, token = shared_draft
    services.preview_link_revoke(link=link, user=editor())
    assert client.get(reverse("explainers:preview", args=[token])).status_code == 404


def test_tampered_preview_link_is_404(client, shared_draft):
    """A changed token answers 404, like a link that never existed."""
    _, _, token = shared_draft
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(reverse("explainers:preview", args=[tampered])).status_code == 404


def test_writers_cannot_share_preview_links():
    """Only editors create shareable links."""
    with pytest.raises(PermissionDenied):
        services.preview_link_create(explainer=ExplainerFactory(), user=writer())


def test_preview_link_lifetime_is_bounded():
    """A link lasts between 1 and 90 days."""
    with pytest.raises(ValidationError):
        services.preview_link_create(explainer=ExplainerFactory(), user=editor(), days=365)
