"""Lead-image renditions: sizes, crops around the focal point, provenance, lifecycle."""

import io
import json
import logging
import re
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from explainers import renditions, services
from explainers.models import Explainer, RenditionSet
from explainers.renditions import AI_SOURCE_TYPE
from newsroom.media import serve_media
from tests.explainers import image_files as files
from tests.explainers.admin_client import logged_in, url, writer_edits
from tests.factories import ExplainerFactory, editor

pytestmark = pytest.mark.django_db

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
}


def json_ld(html: str) -> dict:
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


def published(size=(1600, 900), *, mark=None, **fields) -> Explainer:
    """An explainer published by an editor with a lead image (a red square at ``mark``)."""
    explainer = ExplainerFactory(
        image=files.photo_upload(size, mark=mark),
        image_alt="Envoys at a table",
        **fields,
    )
    services.explainer_publish(explainer=explainer, user=editor())
    return Explainer.objects.select_related("live_revision").get(pk=explainer.pk)


def live_set(explainer: Explainer) -> RenditionSet:
    return RenditionSet.objects.get(source_key=renditions.source_key(explainer.public_revision))


def opened(name: str) -> Image.Image:
    with renditions.storage().open(name, "rb") as handle:
        return Image.open(io.BytesIO(handle.read()))


def exists(name: str) -> bool:
    return renditions.storage().exists(name)


def xmp(image: Image.Image) -> ET.Element:
    packet = image.info["xmp"]
    return ET.fromstring(packet[packet.index(b"<x:xmpmeta") : packet.index(b"</x:xmpmeta>") + 12])


# What is made


def test_widths_are_never_upscaled():
    """A 1000 px original gives 480, 800 and 1000; a 3000 px one stops at 1600."""
    assert [o.width for o in renditions.plan(1000, 600) if o.kind == "w"] == [480, 800, 1000]
    assert [o.width for o in renditions.plan(3000, 2000) if o.kind == "w"] == [480, 800, 1200, 1600]
    assert [o.width for o in renditions.plan(300, 200) if o.kind == "w"] == [300]


def test_crops_have_their_ratio_and_at_most_1200_px():
    """16:9, 4:3 and 1:1 crops, 1200 px wide when the original allows, never upscaled."""
    crops = {o.kind: (o.width, o.height) for o in renditions.plan(4000, 3000) if o.kind != "w"}
    assert crops == {"16x9": (1200, 675), "4x3": (1200, 900), "1x1": (1200, 1200)}
    small = {o.kind: (o.width, o.height) for o in renditions.plan(900, 600) if o.kind != "w"}
    assert small == {"16x9": (900, 506), "4x3": (800, 600), "1x1": (600, 600)}


@given(
    width=st.integers(1, 8000),
    height=st.integers(1, 8000),
    ratio=st.sampled_from([(16, 9), (4, 3), (1, 1)]),
    focal_x=st.integers(0, 100),
    focal_y=st.integers(0, 100),
)
def test_crop_box_always_holds_the_focal_point(width, height, ratio, focal_x, focal_y):
    """Whatever the image and focal point, the crop lies inside the image and contains it."""
    left, top, right, bottom = renditions.crop_box(width, height, *ratio, focal_x, focal_y)
    assert 0 <= left < right <= width and 0 <= top < bottom <= height
    assert left <= width * focal_x / 100 <= right + 0.5
    assert top <= height * focal_y / 100 <= bottom + 0.5
    assert right - left == width or bottom - top == height  # as large as the image allows


def test_crops_keep_the_focal_point_in_frame():
    """With the focal point on a red square at the right, the square crop shows it centred."""
    data = files.photo((1600, 900), mark=(88, 50))
    made = {
        (f.kind, f.format): f for f in renditions.render(io.BytesIO(data), focal_x=88, focal_y=50)
    }
    square = Image.open(io.BytesIO(made["1x1", "jpeg"].data)).convert("RGB")
    assert square.size == (900, 900)
    red = square.getpixel((square.width * 3 // 4, square.height // 2))
    assert red[0] > 180 and red[2] < 80
    centred = {
        (f.kind, f.format): f for f in renditions.render(io.BytesIO(data), focal_x=50, focal_y=50)
    }
    middle = Image.open(io.BytesIO(centred["1x1", "jpeg"].data)).convert("RGB")
    assert middle.getpixel((middle.width - 5, middle.height // 2))[2] > 150  # no red in frame


def test_every_width_comes_in_webp_and_jpeg():
    """Each width is made as WebP and JPEG; the crops as JPEG."""
    made = list(renditions.render(io.BytesIO(files.photo((1600, 900)))))
    formats = {(f.kind, f.width): set() for f in made}
    for f in made:
        formats[f.kind, f.width].add(Image.open(io.BytesIO(f.data)).format)
    assert formats == {
        ("w", 480): {"WEBP", "JPEG"},
        ("w", 800): {"WEBP", "JPEG"},
        ("w", 1200): {"WEBP", "JPEG"},
        ("w", 1600): {"WEBP", "JPEG"},
        ("16x9", 1200): {"JPEG"},
        ("4x3", 1200): {"JPEG"},
        ("1x1", 900): {"JPEG"},
    }


def test_transparent_png_is_flattened_on_white():
    """A transparent PNG becomes RGB on white, not black, in JPEG and WebP alike."""
    data = files.encoded(Image.new("RGBA", (1300, 700), (0, 0, 0, 0)), "PNG")
    for made in renditions.render(io.BytesIO(data)):
        pixel = Image.open(io.BytesIO(made.data)).convert("RGB").getpixel((10, 10))
        assert min(pixel) > 240


def test_large_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    """A 24 MP JPEG is decoded at half size: no output needs more (1:1 crop: 1200 of 4000)."""
    from PIL import JpegImagePlugin

    asked = []
    original = JpegImagePlugin.JpegImageFile.draft

    def draft(self, mode, size):
        result = original(self, mode, size)
        asked.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    list(renditions.render(io.BytesIO(files.photo((6000, 4000), quality=85))))
    assert asked == [((1800, 1200), (3000, 2000))]
    assert renditions.plan(6000, 4000)[-1].width == 1200


# Provenance written into the files


def test_ai_flag_and_credit_are_written_into_every_file():
    """Every rendition's XMP says trainedAlgorithmicMedia and carries the credit, escaped."""
    credit = 'Jane <Doe> & "Agency" \x01'
    made = list(renditions.render(io.BytesIO(files.photo()), credit=credit, ai_generated=True))
    assert len(made) == 11
    for item in made:
        description = xmp(Image.open(io.BytesIO(item.data))).find(".//rdf:Description", NS)
        source = description.find("Iptc4xmpExt:DigitalSourceType", NS).text
        assert source == AI_SOURCE_TYPE
        assert source == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
        assert description.find("photoshop:Credit", NS).text == 'Jane <Doe> & "Agency"'


def test_camera_image_has_credit_but_no_source_type():
    """Without the AI flag, the files carry the credit and no DigitalSourceType."""
    item = next(renditions.render(io.BytesIO(files.photo()), credit="Jane Doe / Reuters"))
    description = xmp(Image.open(io.BytesIO(item.data))).find(".//rdf:Description", NS)
    assert description.find("Iptc4xmpExt:DigitalSourceType", NS) is None
    assert description.find("photoshop:Credit", NS).text == "Jane Doe / Reuters"


def test_published_files_carry_the_versions_provenance():
    """The stored files of a published AI image say so, read back from storage."""
    explainer = published(image_ai_generated=True, image_credit="Generated with a model")
    for item in live_set(explainer).files:
        description = xmp(opened(item["name"])).find(".//rdf:Description", NS)
        assert description.find("Iptc4xmpExt:DigitalSourceType", NS).text == AI_SOURCE_TYPE
        assert description.find("photoshop:Credit", NS).text == "Generated with a model"


# Made once, found by key


def test_publishing_makes_the_set_under_an_unguessable_folder():
    """Publishing makes the files, under renditions/<32 random hex>/, named by size."""
    rendition_set = live_set(published())
    assert re.fullmatch(r"[0-9a-f]{32}", rendition_set.token)
    names = sorted(item["name"].rsplit("/", 1)[1] for item in rendition_set.files)
    assert names == sorted(
        [
            *(f"w-{w}.{ext}" for w in (480, 800, 1200, 1600) for ext in ("webp", "jpg")),
            "16x9-1200.jpg",
            "4x3-1200.jpg",
            "1x1-900.jpg",
        ]
    )
    assert all(
        item["name"].startswith(f"renditions/{rendition_set.token}/") and exists(item["name"])
        for item in rendition_set.files
    )


def test_ensure_is_idempotent(monkeypatch):
    """Asking again for an existing set renders nothing and returns the same set."""
    explainer = published()
    first = live_set(explainer)
    monkeypatch.setattr(renditions, "render", lambda *a, **k: pytest.fail("rendered again"))
    assert renditions.ensure(explainer.live_revision) == first
    assert RenditionSet.objects.count() == 1


def test_versions_showing_the_image_alike_share_one_set(django_capture_on_commit_callbacks):
    """A text-only edit reuses the live version's set: nothing is made twice."""
    explainer = published()
    with django_capture_on_commit_callbacks(execute=True):
        writer_edits(explainer, headline="A new headline")
    assert RenditionSet.objects.count() == 1


def test_upload_makes_the_renditions_once_saved(django_capture_on_commit_callbacks):
    """Saving a new image in the admin makes its renditions after the save commits."""
    explainer = ExplainerFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        writer_edits(explainer, image=files.photo_upload(), image_alt="A map")
    assert callbacks
    explainer.refresh_from_db()
    assert RenditionSet.objects.get(source_key=renditions.source_key(explainer)).files


def test_failed_rendering_never_fails_publishing(monkeypatch, caplog):
    """A rendition error is logged; the explainer is published and its page shows the original."""
    monkeypatch.setattr(renditions, "render", lambda *a, **k: 1 / 0)
    explainer = published()
    assert explainer.is_public and not RenditionSet.objects.exists()
    assert "Could not make the renditions" in caplog.text


# The reader's page


def test_page_offers_each_width_in_a_picture(client):
    """<picture> with a WebP source and JPEG srcset, sizes, width/height and high priority."""
    explainer = published()
    html = client.get(explainer.get_absolute_url()).text
    token = live_set(explainer).token
    base = f"/media/renditions/{token}/"
    webp = ", ".join(f"{base}w-{w}.webp {w}w" for w in (480, 800, 1200, 1600))
    jpeg = ", ".join(f"{base}w-{w}.jpg {w}w" for w in (480, 800, 1200, 1600))
    sizes = "(min-width: 42rem) 40rem, calc(100vw - 2rem)"
    assert f'<source type="image/webp" srcset="{webp}" sizes="{sizes}">' in html
    assert (
        f'<img src="{base}w-800.jpg" srcset="{jpeg}" sizes="{sizes}" width="1600" height="900" '
        'alt="Envoys at a table" fetchpriority="high">'
    ) in html
    assert explainer.image.url not in html  # the original is not needed


def test_json_ld_lists_the_three_crops_with_provenance(client):
    """JSON-LD image: 16:9, 4:3 and 1:1 ImageObjects, with size, credit and AI source type."""
    explainer = published(image_credit="Jane Doe / Agency", image_ai_generated=True)
    response = client.get(explainer.get_absolute_url())
    images = json_ld(response.text)["image"]
    base = f"{settings.SITE_URL}/media/renditions/{live_set(explainer).token}/"
    assert [(i["url"], i["width"], i["height"]) for i in images] == [
        (base + "16x9-1200.jpg", 1200, 675),
        (base + "4x3-1200.jpg", 1200, 900),
        (base + "1x1-900.jpg", 900, 900),
    ]
    assert all(
        i["@type"] == "ImageObject" and i["creditText"] == "Jane Doe / Agency" for i in images
    )
    assert all(i["digitalSourceType"] == AI_SOURCE_TYPE for i in images)
    assert response.context["share_image"] == {
        "url": base + "16x9-1200.jpg",
        "width": 1200,
        "height": 675,
        "alt": "Envoys at a table",
        "type": "image/jpeg",
    }


def test_ai_image_is_labelled_for_readers(client):
    """An AI-generated image says so under the picture, beside the credit; others do not."""
    ai = published(image_ai_generated=True, image_credit="Made with a model")
    html = client.get(ai.get_absolute_url()).text
    assert '<span class="image-ai-label">AI-generated image</span>' in html
    camera = published(image_credit="Jane Doe")
    html = client.get(camera.get_absolute_url()).text
    assert "AI-generated image" not in html and "digitalSourceType" not in json.dumps(
        json_ld(html)["image"]
    )


def test_missing_renditions_fall_back_to_the_original_and_log(client, caplog):
    """Without its set the page still shows the image (the original) and logs what to run."""
    explainer = published()
    RenditionSet.objects.all().delete()
    with caplog.at_level(logging.WARNING, logger="explainers.renditions"):
        response = client.get(explainer.get_absolute_url())
    assert response.status_code == 200
    assert f'<img src="{explainer.image.url}" width="1600" height="900"' in response.text
    assert "srcset" not in response.text
    assert json_ld(response.text)["image"][0]["url"] == f"{settings.SITE_URL}{explainer.image.url}"
    assert "make_renditions --missing" in caplog.text


def test_page_with_an_image_makes_one_more_query(client, django_assert_max_num_queries):
    """The picture costs one query (its set), whatever the number of files.

    Five without it: the page's state, the explainer, and the related list's three (SQLite's
    full-text check, the closest by text, when the list could next change).
    """
    url = published().get_absolute_url()
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 200


def test_lazy_picture_for_images_further_down():
    """The shared include marks images below the first screen lazy, not high priority."""
    from django.template.loader import render_to_string

    picture = renditions.Picture(
        alt="A", credit="", ai_generated=False, src="/a.jpg", width=8, height=6
    )
    html = render_to_string("includes/picture.html", {"picture": picture, "lazy": True})
    assert 'loading="lazy"' in html and "fetchpriority" not in html


def test_renditions_are_served_immutable():
    """In development the media view serves renditions with a year of immutable caching."""
    explainer = published()
    name = live_set(explainer).files[0]["name"]
    response = serve_media(RequestFactory().get("/"), name)
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    original = serve_media(RequestFactory().get("/"), explainer.image.name)
    assert "immutable" not in original.get("Cache-Control", "")


# Lifecycle: replaced, scheduled, withdrawn


def test_replaced_image_renditions_go_once_the_new_version_is_published(
    django_capture_on_commit_callbacks,
):
    """While an edit waits, the live files stay; publishing it deletes them, not the original."""
    explainer = published()
    old = live_set(explainer)
    with django_capture_on_commit_callbacks(execute=True):
        writer_edits(explainer, image=files.photo_upload(mark=(20, 20)))
    assert all(exists(item["name"]) for item in old.files)  # readers still get them
    with django_capture_on_commit_callbacks(execute=True):
        services.explainer_publish(explainer=Explainer.objects.get(pk=explainer.pk), user=editor())
    assert not RenditionSet.objects.filter(pk=old.pk).exists()
    assert not any(exists(item["name"]) for item in old.files)
    assert exists(old.image)  # history keeps the original, for diffs and restores
    explainer.refresh_from_db()
    assert all(exists(item["name"]) for item in live_set(explainer).files)


def test_scheduled_changes_keep_both_sets(django_capture_on_commit_callbacks):
    """Changes scheduled for later keep the live files until then, and have their own."""
    from django.utils import timezone

    explainer = published()
    old = live_set(explainer)
    with django_capture_on_commit_callbacks(execute=True):
        writer_edits(explainer, image=files.photo_upload(mark=(20, 20)))
        services.explainer_publish(
            explainer=Explainer.objects.get(pk=explainer.pk),
            user=editor(),
            at=timezone.now() + timezone.timedelta(hours=2),
        )
    explainer.refresh_from_db()
    assert RenditionSet.objects.filter(pk=old.pk).exists()
    assert RenditionSet.objects.filter(
        source_key=renditions.source_key(explainer.scheduled_revision)
    ).exists()


def test_unpublishing_withdraws_the_addresses_readers_saw(
    client, django_capture_on_commit_callbacks
):
    """Once unpublished, the files readers were given are gone; previews get new addresses."""
    explainer = published()
    old = live_set(explainer)
    with django_capture_on_commit_callbacks(execute=True):
        services.explainer_unpublish(explainer=explainer, user=editor())
    assert not any(exists(item["name"]) for item in old.files)
    fresh = RenditionSet.objects.get(explainer=explainer)
    assert fresh.token != old.token
    preview = logged_in(editor("eve")).get(url("preview", explainer)).text
    assert fresh.token in preview and old.token not in preview


def test_pending_image_is_reachable_only_under_unguessable_names(
    django_capture_on_commit_callbacks,
):
    """A draft's original and its renditions are stored under 128-bit random names."""
    explainer = ExplainerFactory(image=files.photo_upload(), image_alt="Draft picture")
    with django_capture_on_commit_callbacks(execute=True):
        services.explainer_record_edit(explainer=explainer, user=None)
    rendition_set = RenditionSet.objects.get(explainer=explainer)
    assert re.fullmatch(r"explainers/[0-9a-f]{32}\.jpg", explainer.image.name)
    assert re.fullmatch(r"[0-9a-f]{32}", rendition_set.token)


def test_cleared_image_leaves_the_page_and_its_files(client, django_capture_on_commit_callbacks):
    """Publishing a version without the image removes the picture and deletes its files."""
    explainer = published()
    old = live_set(explainer)
    with django_capture_on_commit_callbacks(execute=True):
        writer_edits(explainer, image="", **{"image-clear": "on"})
        services.explainer_publish(explainer=Explainer.objects.get(pk=explainer.pk), user=editor())
    html = client.get(explainer.get_absolute_url()).text
    assert "<picture>" not in html and "image" not in json_ld(html)
    assert not any(exists(item["name"]) for item in old.files)


def test_deleting_an_explainer_deletes_its_renditions(
    admin_client, django_capture_on_commit_callbacks
):
    """An explainer deleted in the admin leaves no rendition files behind."""
    explainer = published()
    names = [item["name"] for item in live_set(explainer).files]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url("delete", explainer), {"post": "yes"})
    assert response.status_code == 302 and not Explainer.objects.exists()
    assert not any(exists(name) for name in names)


# The command


def test_make_renditions_builds_what_is_missing():
    """`make_renditions --missing` makes absent sets and refills sets that lost files."""
    explainer = published()
    RenditionSet.objects.all().delete()
    call_command("make_renditions", "--missing", verbosity=0)
    rendition_set = live_set(explainer)
    lost = rendition_set.files[0]["name"]
    renditions.storage().delete(lost)
    out = io.StringIO()
    call_command("make_renditions", "--missing", stdout=out)
    assert exists(lost) and live_set(explainer).token == rendition_set.token
    assert "0 made, 1 rebuilt, 0 already complete" in out.getvalue()


def test_make_renditions_missing_leaves_complete_sets(monkeypatch):
    """With --missing, complete sets are not rendered again."""
    published()
    monkeypatch.setattr(renditions, "render", lambda *a, **k: pytest.fail("rendered again"))
    out = io.StringIO()
    call_command("make_renditions", "--missing", stdout=out)
    assert "1 already complete" in out.getvalue()


def test_make_renditions_rebuilds_in_place_and_prunes():
    """Without --missing every set is written again at its address; unused sets are deleted."""
    explainer = published()
    stale = RenditionSet.objects.create(
        explainer=explainer, source_key="x" * 64, token="y" * 32, image="gone.jpg", files=[]
    )
    token = live_set(explainer).token
    out = io.StringIO()
    call_command("make_renditions", stdout=out)
    assert live_set(explainer).token == token
    assert not RenditionSet.objects.filter(pk=stale.pk).exists()
    assert "1 rebuilt" in out.getvalue() and "1 no longer needed deleted" in out.getvalue()


def test_make_renditions_reports_a_broken_original_and_goes_on():
    """A lost original fails that set with a message; the others are still made."""
    broken, fine = published(), published()
    RenditionSet.objects.all().delete()
    renditions.storage().delete(broken.image.name)
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 failed"):
        call_command("make_renditions", "--missing", stderr=err, verbosity=0)
    assert f"Explainer {broken.pk}" in err.getvalue()
    assert live_set(fine).files


def test_renditions_made_after_the_page_was_served_show_on_it(client):
    """A page served with the original shows the renditions once their set is made."""
    explainer = published()
    RenditionSet.objects.all().delete()
    page = explainer.get_absolute_url()
    assert "srcset" not in client.get(page).text
    renditions.ensure(explainer.live_revision)
    assert "srcset" in client.get(page).text
