import io

import jinja2
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import engines
from django.urls import reverse
from PIL import Image

from explainers.models import HEADLINE_PLACEHOLDER, Explainer
from explainers.services import explainer_publish
from tests.explainers.admin_client import full_change_data, loaded_at_of, logged_in, url
from tests.factories import (
    ExplainerFactory,
    SourceFactory,
    TopicFactory,
    UserFactory,
    explainer_form_data,
    writer,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:explainers_explainer_changelist")
ADD = reverse("admin:explainers_explainer_add")
IMPORT = reverse("admin:explainers_explainer_import")
SEED = "explainers/demo/explainer-seed.txt"


def png_upload(name="lead.png", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_changelist_loads_with_few_queries(admin_client, django_assert_max_num_queries):
    """The changelist lists explainers with their topics in a fixed number of queries."""
    for _ in range(15):
        ExplainerFactory(topic=TopicFactory())
    with django_assert_max_num_queries(10):
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert "Import from text" in response.text


def test_changelist_search_covers_sections(admin_client):
    """Search finds words from any of the three sections."""
    hit = ExplainerFactory(whats_next="A summit in Geneva is planned.")
    miss = ExplainerFactory()
    response = admin_client.get(CHANGELIST, {"q": "Geneva"})
    assert list(response.context["cl"].result_list) == [hit]
    assert miss.headline not in response.text


def test_changelist_filters_by_status_and_ai(admin_client):
    """The status and AI filters narrow the list."""
    ai_draft = ExplainerFactory(ai_generated=True)
    ExplainerFactory(published=True)
    response = admin_client.get(CHANGELIST, {"status__exact": "draft", "ai_generated__exact": "1"})
    assert list(response.context["cl"].result_list) == [ai_draft]


def test_changelist_names_who_drafted_the_text(admin_client):
    """The list says "AI-drafted" or "Human-written" in a neutral badge, not a tick or a cross."""
    ExplainerFactory(ai_generated=True)
    ExplainerFactory(ai_generated=False)
    html = admin_client.get(CHANGELIST).text
    assert html.count('class="origin-badge origin-ai">AI-drafted<') == 1
    assert html.count('class="origin-badge origin-human">Human-written<') == 1
    assert "icon-yes.svg" not in html and "icon-no.svg" not in html


def test_add_form_loads_in_reading_order(admin_client):
    """The add form shows the fieldsets in the order the reader sees the page."""
    html = admin_client.get(ADD).text
    order = [
        "id_headline",
        "id_whats_happening",
        "id_why_its_important",
        "id_whats_next",
        "id_ai_generated",
        "id_topic",
        "id_image",
        "sources-group",
        "Publishing</h2>",
    ]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_add_stamps_creator_and_generates_slug(admin_client, superuser):
    """Saving a new explainer records who made it and fills the slug from the headline."""
    response = admin_client.post(ADD, explainer_form_data())
    assert response.status_code == 302
    explainer = Explainer.objects.get()
    assert explainer.slug == "envoy-says-leaders-will-discuss-guarantees"
    assert explainer.created_by == superuser and explainer.updated_by == superuser
    assert explainer.status == Explainer.Status.DRAFT


def test_change_stamps_the_editor(admin_client, superuser):
    """Saving changes records the editor as the last to update it."""
    explainer = ExplainerFactory(created_by=UserFactory())
    url = reverse("admin:explainers_explainer_change", args=[explainer.pk])
    data = explainer_form_data(
        slug=explainer.slug, whats_next="Edited.", loaded_at=explainer.updated_at.isoformat()
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302
    explainer.refresh_from_db()
    assert explainer.whats_next == "Edited." and explainer.updated_by == superuser
    assert explainer.created_by != superuser


def test_blank_section_is_refused_next_to_the_field(admin_client):
    """A section left empty (or only spaces) is an error on that field."""
    response = admin_client.post(ADD, explainer_form_data(why_its_important="   "))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["why_its_important"] == [
        "This field is required."
    ]
    assert not Explainer.objects.exists()


def test_slug_must_be_url_safe(admin_client):
    """A slug with spaces or slashes is refused with a message."""
    response = admin_client.post(ADD, explainer_form_data(slug="not a/slug"))
    assert "slug" in response.context["adminform"].form.errors
    assert not Explainer.objects.exists()


def test_slug_must_be_unique(admin_client):
    """A slug another explainer uses is refused with a clear message."""
    ExplainerFactory(slug="taken")
    response = admin_client.post(ADD, explainer_form_data(slug="taken"))
    assert (
        "Another explainer uses this slug" in response.context["adminform"].form.errors["slug"][0]
    )


def test_image_needs_alt_text(admin_client):
    """An image without a description is refused next to the alt text field."""
    response = admin_client.post(ADD, explainer_form_data(image=png_upload()))
    assert response.context["adminform"].form.errors["image_alt"] == [
        "Describe the image for readers who cannot see it."
    ]


def test_image_that_is_not_an_image_is_refused(admin_client):
    """A file that Pillow cannot read is refused as an image."""
    fake = SimpleUploadedFile("lead.png", b"not an image", content_type="image/png")
    response = admin_client.post(ADD, explainer_form_data(image=fake, image_alt="A map"))
    assert "image" in response.context["adminform"].form.errors
    assert not Explainer.objects.exists()


def test_image_too_large_is_refused(admin_client, settings):
    """An image over the size limit is refused with the sizes in the message."""
    settings.MAX_IMAGE_UPLOAD_BYTES = 10
    response = admin_client.post(ADD, explainer_form_data(image=png_upload(), image_alt="A map"))
    assert "largest allowed" in response.context["adminform"].form.errors["image"][0]


def test_image_with_alt_text_is_shown_with_its_size(admin_client, client):
    """A valid image is stored with its dimensions and shown with its alt text and credit."""
    data = explainer_form_data(
        image=png_upload(),
        image_alt="Leaders at a table",
        image_credit="Jane Doe / Agency",
    )
    assert admin_client.post(ADD, data).status_code == 302
    explainer = Explainer.objects.get()
    explainer_publish(explainer=explainer, user=None)
    assert (explainer.image_width, explainer.image_height) == (40, 30)
    html = client.get(explainer.get_absolute_url()).text
    assert 'width="40" height="30" alt="Leaders at a table"' in html
    assert "Jane Doe / Agency" in html


def test_sources_inline_saves_and_rejects_non_web_addresses(admin_client):
    """Sources are added inline; a javascript: address is refused."""
    data = explainer_form_data(
        **{
            "sources-TOTAL_FORMS": "2",
            "sources-0-label": "Wire",
            "sources-0-url": "https://example.com/a",
            "sources-0-position": "0",
            "sources-1-label": "Bad",
            "sources-1-url": "javascript:alert(1)",
            "sources-1-position": "1",
        }
    )
    response = admin_client.post(ADD, data)
    assert response.status_code == 200 and not Explainer.objects.exists()
    data["sources-1-url"] = "https://example.com/b"
    assert admin_client.post(ADD, data).status_code == 302
    assert Explainer.objects.get().sources.count() == 2


def test_publish_and_unpublish_actions(admin_client, superuser):
    """The bulk actions publish and unpublish the selected explainers."""
    drafts = ExplainerFactory.create_batch(2)
    ids = [str(d.pk) for d in drafts]
    admin_client.post(CHANGELIST, {"action": "publish_selected", "_selected_action": ids})
    assert Explainer.objects.published().count() == 2
    assert set(Explainer.objects.values_list("updated_by", flat=True)) == {superuser.pk}
    data = {"action": "unpublish_selected", "_selected_action": ids[:1], "post": "yes"}
    admin_client.post(CHANGELIST, data)
    assert Explainer.objects.published().count() == 1


@pytest.mark.parametrize("action", ["unpublish_selected", "archive_selected"])
def test_a_bulk_step_that_warns_readers_away_asks_first(admin_client, action):
    """Unpublish and Archive selected say what they do and list the explainers; only the yes
    takes the step, as on the change page."""
    live = [ExplainerFactory(published=True, headline=f"Live story {n}") for n in range(2)]
    data = {"action": action, "_selected_action": [str(e.pk) for e in live]}
    response = admin_client.post(CHANGELIST, data)
    assert response.status_code == 200 and Explainer.objects.published().count() == 2
    assert "Live story 0" in response.text and "Live story 1" in response.text
    assert "shared preview links stop working" in response.text
    admin_client.post(CHANGELIST, {**data, "post": "yes"})
    assert not Explainer.objects.published().exists()


def test_a_bulk_action_that_can_be_taken_back_does_not_ask(admin_client):
    """Submit and publish selected act at once: nothing they do is lost for good."""
    draft = ExplainerFactory()
    response = admin_client.post(
        CHANGELIST, {"action": "publish_selected", "_selected_action": [draft.pk]}
    )
    assert response.status_code == 302
    assert Explainer.objects.published().get() == draft


def test_staff_without_change_permission_cannot_publish(client):
    """A staff member who may only view explainers gets no publish action."""
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_explainer"))
    client.force_login(viewer)
    draft = ExplainerFactory()
    client.post(CHANGELIST, {"action": "publish_selected", "_selected_action": [draft.pk]})
    assert not Explainer.objects.published().exists()


def test_staff_preview_shows_a_draft_never_cached(admin_client, draft_explainer):
    """Staff see a draft in the reader's design, marked, not indexed and never cached."""
    SourceFactory(explainer=draft_explainer)
    url = reverse("admin:explainers_explainer_preview", args=[draft_explainer.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert draft_explainer.headline in response.text
    assert "Preview: not published." in response.text
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_preview_in_development_shows_no_unfilled_variable(
    admin_client, draft_explainer, monkeypatch
):
    """With development's Jinja2, which writes out undefined variables, the preview has none."""
    monkeypatch.setattr(engines["jinja2"].env, "undefined", jinja2.DebugUndefined)
    url = reverse("admin:explainers_explainer_preview", args=[draft_explainer.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "{{" not in response.text


def test_preview_is_refused_to_readers(client, draft_explainer):
    """Anonymous readers are sent to the admin login, not shown the draft."""
    url = reverse("admin:explainers_explainer_preview", args=[draft_explainer.pk])
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_preview_is_refused_to_staff_without_view_permission(client, draft_explainer):
    """Staff who may not view explainers cannot preview them."""
    client.force_login(UserFactory(is_staff=True))
    url = reverse("admin:explainers_explainer_preview", args=[draft_explainer.pk])
    assert client.get(url).status_code == 403


def test_change_form_links_to_preview(admin_client, draft_explainer):
    """The change form offers a Preview link."""
    url = reverse("admin:explainers_explainer_change", args=[draft_explainer.pk])
    preview = reverse("admin:explainers_explainer_preview", args=[draft_explainer.pk])
    assert f'href="{preview}"' in admin_client.get(url).text


def test_import_page_creates_a_draft(admin_client, superuser):
    """Pasting the seed text creates one draft and opens it for editing."""
    with open(SEED, encoding="utf-8") as seed:
        response = admin_client.post(IMPORT, {"text": seed.read()})
    explainer = Explainer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:explainers_explainer_change", args=[explainer.pk])
    assert explainer.status == Explainer.Status.DRAFT and explainer.ai_generated
    assert explainer.created_by == superuser


def test_import_page_warns_when_the_draft_needs_a_headline(admin_client):
    """Pasted text whose first sentence is too long for a headline is imported with the
    placeholder, and the editor is told where the headline goes."""
    with open(SEED, encoding="utf-8") as seed:
        lead_in, _, rest = seed.read().split("\n", 2)
    response = admin_client.post(IMPORT, {"text": f"{lead_in}\n{rest}"}, follow=True)
    assert Explainer.objects.get().headline == HEADLINE_PLACEHOLDER
    shown = [str(message) for message in response.context["messages"]]
    assert any(m.startswith("line 2: No headline: the first sentence of What's") for m in shown)


def test_import_page_twice_creates_nothing_new(admin_client):
    """Pasting the same text again creates nothing and says so."""
    with open(SEED, encoding="utf-8") as seed:
        text = seed.read()
    admin_client.post(IMPORT, {"text": text})
    response = admin_client.post(IMPORT, {"text": text}, follow=True)
    assert Explainer.objects.count() == 1
    assert "imported before" in response.text


def test_import_page_shows_errors_next_to_the_field(admin_client):
    """A text missing a section is refused with the importer's message, nothing saved."""
    response = admin_client.post(IMPORT, {"text": "What's Happening?\nA thing.\n"})
    assert response.status_code == 200
    errors = response.context["form"].errors["text"]
    assert any("Why It's Important?" in e for e in errors)
    assert any("What's Next?" in e for e in errors)
    assert not Explainer.objects.exists()


def test_import_page_needs_add_permission(client):
    """Staff who may not add explainers cannot import."""
    client.force_login(UserFactory(is_staff=True))
    assert client.get(IMPORT).status_code == 403


def test_save_as_new_is_refused(live):
    """A crafted "Save as new" cannot copy an explainer (and shed its AI label)."""
    author = logged_in(writer())
    token = loaded_at_of(author.get(url("change", live)))
    data = {**full_change_data(live, token), "_saveasnew": "1"}
    assert author.post(url("change", live), data).status_code == 400
    assert Explainer.objects.count() == 1
