"""The focal point and the AI-image flag: edited in the admin, versioned like the rest."""

import re

import pytest
from django.db import IntegrityError
from PIL import Image

from explainers import renditions, services
from explainers.models import Explainer, RenditionSet
from tests.explainers import image_files as files
from tests.explainers.admin_client import (
    full_change_data,
    loaded_at_of,
    logged_in,
    transition,
    url,
    writer_edits,
)
from tests.factories import ExplainerFactory, editor, writer

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(db):
    explainer = ExplainerFactory(
        slug="with-image", image=files.photo_upload(mark=(50, 50)), image_alt="Envoys"
    )
    services.explainer_publish(explainer=explainer, user=editor())
    return Explainer.objects.get(pk=explainer.pk)


def test_change_form_offers_the_picker_and_two_number_fields(live):
    """The image panel has the clickable picture, crop previews and two 0–100 number fields."""
    html = logged_in(writer()).get(url("change", live)).text
    assert 'data-focal-picker data-x="id_image_focal_x" data-y="id_image_focal_y"' in html
    assert f'<img class="focal-image" src="{live.image.url}"' in html
    for ratio in ("16:9", "4:3", "1:1"):
        assert f'data-crop="{ratio}"' in html
    for name in ("image_focal_x", "image_focal_y"):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'type="number"' in field and 'min="0"' in field and 'max="100"' in field
    assert '<label for="id_image_focal_x">Focal point across (%):</label>' in html
    assert "/static/js/admin-focal-point.js" in html


def test_picker_sets_no_inline_style(live):
    """The server writes no style attributes or scripts for the picker (the CSP forbids them)."""
    html = logged_in(writer()).get(url("change", live)).text
    picker = html[html.index("data-focal-picker") : html.index("focal-crops")]
    assert "style=" not in picker and "<script" not in picker


def test_without_an_image_the_panel_says_what_to_do(admin_client):
    """Before an image is saved, the focal-point row explains how to set one."""
    html = admin_client.get("/admin/explainers/explainer/add/").text
    assert "Upload an image and save: then click its subject here" in html


def test_focal_point_change_waits_for_publication(client, live, django_capture_on_commit_callbacks):
    """A new focal point is a new version: readers keep the old crops until it is published."""
    before = json_ld_images(client, live)
    with django_capture_on_commit_callbacks(execute=True):
        response = writer_edits(live, image_focal_x="90", image_focal_y="10")
    assert "Focal point across (%)" in response.text and "Focal point down (%)" in response.text
    live.refresh_from_db()
    assert (live.image_focal_x, live.image_focal_y) == (90, 10) and live.has_pending_changes
    assert json_ld_images(client, live) == before
    with django_capture_on_commit_callbacks(execute=True):
        transition(logged_in(editor()), live, "publish")
    after = json_ld_images(client, live)
    assert after != before
    live.refresh_from_db()
    assert (live.live_revision.image_focal_x, live.live_revision.image_focal_y) == (90, 10)


def json_ld_images(client, explainer) -> list[str]:
    import json

    html = client.get("/explainers/with-image/").text
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [item["url"] for item in json.loads(block.group(1))["image"]]


def test_ai_image_flag_and_focal_point_are_versioned(live):
    """Both are pending until published; a restore brings the old focal point back."""
    approved = live.live_revision.history_id
    writer_edits(live, image_ai_generated="on", image_focal_x="20")
    live.refresh_from_db()
    assert live.pending_fields() == ["AI-generated image", "focal point across (%)"]
    services.explainer_restore_revision(explainer=live, user=writer(), history_id=approved)
    live.refresh_from_db()
    assert live.image_focal_x == 50
    # Restoring never removes the AI-generated image label, as for the text's.
    assert live.image_ai_generated
    assert "AI-generated image label stays" in live.events.first().comment


def test_writer_cannot_remove_the_ai_image_label(live):
    """A writer's untick (even with a new picture) is refused next to the field."""
    writer_edits(live, image_ai_generated="on")
    live.refresh_from_db()
    client = logged_in(writer("wes"))
    token = loaded_at_of(client.get(url("change", live)))
    data = full_change_data(
        live, token, image=files.photo_upload(), image_alt="A photo", image_ai_generated=False
    )
    response = client.post(url("change", live), data)
    assert response.context["adminform"].form.errors["image_ai_generated"] == [
        "The image is marked as AI-generated. Only an editor who may sign off AI content can "
        "remove that label, also when the picture is replaced; ask one."
    ]
    live.refresh_from_db()
    assert live.image_ai_generated


def test_service_refuses_a_writer_removing_the_ai_image_label(live):
    """Whatever path saves it, a writer's removal of the label is refused by the service."""
    from django.core.exceptions import PermissionDenied

    Explainer.objects.filter(pk=live.pk).update(image_ai_generated=True)
    live = Explainer.objects.get(pk=live.pk)
    live.image_ai_generated = False
    with pytest.raises(PermissionDenied):
        services.explainer_record_edit(explainer=live, user=writer())


def test_editor_may_remove_the_ai_image_label(live):
    """An editor who may sign off AI content can untick it; it waits for publication."""
    writer_edits(live, image_ai_generated="on")
    live.refresh_from_db()
    client = logged_in(editor("edna"))
    token = loaded_at_of(client.get(url("change", live)))
    data = full_change_data(live, token, image_ai_generated=False)
    assert client.post(url("change", live), data).status_code == 302
    live.refresh_from_db()
    assert not live.image_ai_generated


def test_diff_shows_focal_point_and_ai_flag(live):
    """Revisions compare the focal point (0% is shown, not "empty") and the AI-image flag."""
    writer_edits(live, image_ai_generated="on", image_focal_x="0")
    html = logged_in(editor()).get(url("revisions", live)).text
    assert "<del>50%</del> → <ins>0%</ins>" in html
    assert "<del>No</del> → <ins>Yes</ins>" in html


def test_new_image_starts_with_a_centred_focal_point(live):
    """Uploading another picture without touching the fields resets the point to the middle."""
    writer_edits(live, image_focal_x="80", image_focal_y="20")
    live.refresh_from_db()
    client = logged_in(writer("walt"))
    token = loaded_at_of(client.get(url("change", live)))
    data = full_change_data(live, token, image=files.photo_upload(), image_alt="Another")
    data.update(image_focal_x="80", image_focal_y="20")  # the form sends what it showed
    client.post(url("change", live), data)
    live.refresh_from_db()
    assert (live.image_focal_x, live.image_focal_y) == (50, 50)


def test_new_image_keeps_a_focal_point_set_with_it(live):
    """A focal point typed in together with the new picture is kept."""
    writer_edits(live, image=files.photo_upload(), image_focal_x="70", image_focal_y="30")
    live.refresh_from_db()
    assert (live.image_focal_x, live.image_focal_y) == (70, 30)


@pytest.mark.parametrize("value", ["101", "-1", "fifty"])
def test_focal_point_outside_the_image_is_refused(live, value):
    """A focal point outside 0–100 is refused next to its field."""
    client = logged_in(writer())
    token = loaded_at_of(client.get(url("change", live)))
    response = client.post(url("change", live), full_change_data(live, token, image_focal_x=value))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["image_focal_x"]


def test_empty_focal_fields_keep_the_point(live):
    """Clearing the number fields leaves the stored focal point as it was."""
    writer_edits(live, image_focal_x="", image_focal_y="")
    live.refresh_from_db()
    assert (live.image_focal_x, live.image_focal_y) == (50, 50)


def test_database_refuses_a_focal_point_past_the_edge(live):
    """The database itself keeps the focal point within the picture."""
    with pytest.raises(IntegrityError):
        Explainer.objects.filter(pk=live.pk).update(image_focal_x=150)


def test_focal_point_moves_the_crops(live, django_capture_on_commit_callbacks):
    """After publishing a focal point at the right edge, the 1:1 crop is cut from the right."""
    with django_capture_on_commit_callbacks(execute=True):
        writer_edits(live, image_focal_x="95", image_focal_y="50")
        services.explainer_publish(explainer=Explainer.objects.get(pk=live.pk), user=editor())
    live.refresh_from_db()
    crops = RenditionSet.objects.get(source_key=renditions.source_key(live.live_revision))
    square = next(f for f in crops.files if f["kind"] == "1x1")
    with renditions.storage().open(square["name"], "rb") as handle:
        image = Image.open(handle).convert("RGB")
        # The 1600 x 900 picture's red centre square (x 710-890) now sits at the crop's left.
        left, middle = image.getpixel((100, 450)), image.getpixel((450, 450))
    assert image.size == (900, 900)
    assert left[0] > 180 and middle[2] > 150 and middle[0] < 100
