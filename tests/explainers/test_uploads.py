"""Lead-image uploads as a careless or hostile uploader would try them."""

import io
import re

import pytest
from django.contrib.messages import get_messages
from PIL import Image

from explainers.models import Explainer
from tests.explainers import image_files as files
from tests.factories import explainer_form_data

pytestmark = pytest.mark.django_db

ADD = "/admin/explainers/explainer/add/"


def add(client, image, **data):
    return client.post(ADD, explainer_form_data(image=image, image_alt="A map", **data))


def image_errors(response) -> list[str]:
    assert response.status_code == 200, "the form should come back with its errors"
    return response.context["adminform"].form.errors.get("image", [])


def stored(explainer: Explainer) -> bytes:
    with explainer.image.open("rb") as handle:
        return handle.read()


# Refusals, each with a crafted file


def test_oversized_file_is_refused_before_pillow_reads_it(admin_client, monkeypatch, settings):
    """A file over the byte limit is refused with both sizes, and Pillow never opens it."""
    settings.MAX_IMAGE_UPLOAD_BYTES = 5 * 1024 * 1024
    opened = []
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or 1 / 0)
    big = files.upload(b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "big.png")
    errors = image_errors(add(admin_client, big))
    assert errors == [
        "This file is 5.0\xa0MB; the largest allowed is 5.0\xa0MB. Save a smaller copy "
        "(1600 to 2400 pixels wide is plenty) and upload that."
    ]
    assert opened == [] and not Explainer.objects.exists()


def test_decompression_bomb_is_refused(admin_client):
    """A 10 KiB PNG of 9000 × 9000 pixels (81 megapixels) is refused before decoding."""
    data = files.bomb()
    assert len(data) < 12 * 1024
    errors = image_errors(add(admin_client, files.upload(data, "tiny.png")))
    assert errors == [
        "This image has more than 40 megapixels, the most allowed. Resize it and upload it again."
    ]
    assert not Explainer.objects.exists()


def test_more_pixels_than_the_setting_are_refused_with_the_sizes(admin_client, settings):
    """Under Pillow's own threshold, the setting still decides, and the message gives sizes."""
    settings.MAX_IMAGE_PIXELS = 1_000_000
    errors = image_errors(add(admin_client, files.photo_upload((1600, 900))))
    assert errors == [
        "This image is 1600 × 900 pixels (1.4 megapixels); the largest allowed is 1 "
        "megapixels. Resize it and upload it again."
    ]


def test_gif_frame_wider_than_its_screen_is_refused(admin_client):
    """A GIF whose 10 x 10 header hides an 8000 x 8000 frame is refused like any bomb."""
    import struct

    screen = b"GIF89a" + struct.pack("<HH", 10, 10) + bytes([0x80, 0, 0]) + b"\0\0\0\xff\xff\xff"
    frame = b"," + struct.pack("<HHHH", 0, 0, 8000, 8000) + b"\0\x02\x02\x4c\x01\0;"
    errors = image_errors(add(admin_client, files.upload(screen + frame, "dot.gif")))
    assert errors and "megapixels" in errors[0]


def test_pillow_limit_follows_the_setting():
    """Pillow's decompression-bomb limit is the setting's, for every image the site opens."""
    from django.conf import settings

    assert Image.MAX_IMAGE_PIXELS == settings.MAX_IMAGE_PIXELS == 40_000_000


def test_gif_with_html_appended_is_refused(admin_client):
    """A GIF that is also a web page (a polyglot) is refused, saying why."""
    errors = image_errors(add(admin_client, files.upload(files.gif_with_html(), "cat.gif")))
    assert errors == [
        "This file carries web page code (HTML or a script) besides the picture, so it is "
        "refused. Open the picture in a photo editor, export it again and upload that."
    ]


def test_script_hidden_in_png_metadata_is_refused(admin_client):
    """Markup hidden in a PNG text chunk is refused like markup appended to the file."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>fetch('/admin/')</script>")
    data = files.encoded(Image.new("RGB", (1300, 700)), "PNG", pnginfo=info)
    assert image_errors(add(admin_client, files.upload(data, "chart.png")))


NOT_IMAGES = {
    "an HTML page named .jpg": (b"<!doctype html><p>hello</p>", "photo.jpg"),
    "an SVG with a script named .gif": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "logo.gif",
    ),
    "a BMP named .png": (files.encoded(Image.new("RGB", (1300, 700)), "BMP"), "photo.png"),
    "a TIFF named .jpg": (files.encoded(Image.new("RGB", (1300, 700)), "TIFF"), "photo.jpg"),
    "a PDF named .webp": (b"%PDF-1.4\n1 0 obj<<>>endobj\n", "scan.webp"),
}


@pytest.mark.parametrize("case", sorted(NOT_IMAGES))
def test_wrong_type_by_content_is_refused(admin_client, case):
    """What the bytes are decides, not the name: other formats Pillow could read are refused."""
    data, name = NOT_IMAGES[case]
    errors = image_errors(add(admin_client, files.upload(data, name)))
    assert errors == [
        "This file is not a JPEG, PNG, WebP or GIF image, whatever its name says. Export the "
        "picture in one of those formats and upload it again."
    ]


def test_truncated_image_is_refused(admin_client):
    """A JPEG cut off halfway is refused as damaged instead of stored half grey."""
    data = files.photo((1600, 900), "JPEG", quality=95)
    errors = image_errors(add(admin_client, files.upload(data[: len(data) // 2], "cut.jpg")))
    assert errors == [
        "This JPEG file is damaged or incomplete and cannot be decoded. Export it again from "
        "your photo editor."
    ]


def test_refusal_is_shown_next_to_the_image_field(admin_client):
    """The message sits in the image field's row of the form, where the editor looks."""
    response = add(admin_client, files.upload(b"GIF89a nonsense", "x.gif"))
    row = re.search(
        r'<div class="form-row[^"]*field-image\b.*?</div>\s*</div>', response.text, re.S
    )
    assert row and "errorlist" in row.group(0) and "cannot be read" in row.group(0)


# What is kept


def test_png_named_jpg_is_kept_as_png(admin_client):
    """A real PNG with a .jpg name is accepted and stored as what it is."""
    assert add(admin_client, files.photo_upload(fmt="PNG", name="photo.jpg")).status_code == 302
    explainer = Explainer.objects.get()
    assert explainer.image.name.endswith(".png")
    assert Image.open(io.BytesIO(stored(explainer))).format == "PNG"


def test_stored_under_a_random_name(admin_client):
    """Neither the uploader's file name nor a date can be used to guess the address."""
    add(admin_client, files.photo_upload(name="minister-secret-draft.jpg"))
    name = Explainer.objects.get().image.name
    assert re.fullmatch(r"explainers/[0-9a-f]{32}\.jpg", name)


def test_stored_name_never_ends_in_a_runnable_extension():
    """Whatever name reaches the model by any path, only an image extension is kept."""
    from explainers.images import upload_path

    assert re.fullmatch(r"explainers/[0-9a-f]{32}", upload_path(None, "shell.php"))
    assert re.fullmatch(r"explainers/[0-9a-f]{32}", upload_path(None, "page.jpg.html"))
    assert upload_path(None, "Photo.JPG").endswith(".jpg")


def test_metadata_is_stripped_and_rotation_applied(admin_client):
    """Camera make, GPS position and comments are gone; a sideways phone photo stands upright."""
    data = files.with_exif((1600, 1200), orientation=6)
    assert add(admin_client, files.upload(data, "phone.jpg", "image/jpeg")).status_code == 302
    explainer = Explainer.objects.get()
    kept = stored(explainer)
    image = Image.open(io.BytesIO(kept))
    assert image.size == (1200, 1600) == (explainer.image_width, explainer.image_height)
    assert not image.getexif() and "comment" not in image.info and "icc_profile" not in image.info
    assert b"SecretCam" not in kept and b"safe house" not in kept


def test_gif_keeps_its_first_frame_as_png_and_drops_what_follows(admin_client):
    """An animated GIF with junk after it becomes a still PNG of its first frame, junk gone."""
    frames = [Image.new("P", (1300, 700), colour) for colour in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    data = buffer.getvalue() + b"TRAILING-PAYLOAD"
    assert add(admin_client, files.upload(data, "anim.gif", "image/gif")).status_code == 302
    kept = stored(Explainer.objects.get())
    image = Image.open(io.BytesIO(kept))
    assert image.format == "PNG" and getattr(image, "n_frames", 1) == 1
    assert b"TRAILING-PAYLOAD" not in kept


def test_narrow_image_is_accepted_with_a_warning(admin_client):
    """An image under 1200 px is kept; the editor is told search engines may show it small."""
    response = add(admin_client, files.photo_upload((800, 450)))
    assert response.status_code == 302
    warnings = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("800 pixels wide" in m and "at least 1200 pixels" in m for m in warnings)
    explainer = Explainer.objects.get()
    change = admin_client.get(f"/admin/explainers/explainer/{explainer.pk}/change/").text
    assert "Narrower than 1200 pixels" in change


def test_wide_image_gets_no_warning(admin_client):
    """An image of 1200 px or more is saved without a warning."""
    response = add(admin_client, files.photo_upload((1600, 900)))
    assert not [m for m in get_messages(response.wsgi_request) if "pixels wide" in str(m)]


def test_help_text_names_the_limits(admin_client, settings):
    """The image field's help says the formats, the byte and pixel limits and the width."""
    settings.MAX_IMAGE_UPLOAD_BYTES = 3 * 1024 * 1024
    html = admin_client.get(ADD).text
    assert "at most 3.0\xa0MB and 40 megapixels" in html
    assert 'accept="image/jpeg,image/png,image/webp,image/gif"' in html
