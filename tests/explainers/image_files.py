"""Image files for tests, honest and crafted, made on the spot (nothing is downloaded)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def upload(data: bytes, name: str, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def photo(size=(1600, 900), fmt="JPEG", *, mark=None, **options) -> bytes:
    """A picture: blue, with a red square at ``mark`` (percent across, down) if given."""
    image = Image.new("RGB", size, (30, 60, 200))
    if mark is not None:
        x, y = size[0] * mark[0] / 100, size[1] * mark[1] / 100
        half = min(size) // 10
        ImageDraw.Draw(image).rectangle((x - half, y - half, x + half, y + half), fill=(230, 0, 0))
    return encoded(image, fmt, **options)


def photo_upload(size=(1600, 900), fmt="JPEG", name=None, **kwargs) -> SimpleUploadedFile:
    extension = {"JPEG": "jpg"}.get(fmt, fmt.lower())
    return upload(photo(size, fmt, **kwargs), name or f"photo.{extension}", CONTENT_TYPES[fmt])


def bomb() -> bytes:
    """A real PNG of 9000 × 9000 pixels in a few KiB: 81 megapixels to decode."""
    return encoded(Image.new("1", (9000, 9000)), "PNG", optimize=True)


def gif_with_html() -> bytes:
    """A valid GIF with an HTML page appended: a browser sniffing it may run the script."""
    gif = encoded(Image.new("P", (1300, 700), 1), "GIF")
    return gif + b"<html><body><script>alert(document.cookie)</script></body></html>"


def with_exif(size=(1600, 900), *, orientation: int | None = None) -> bytes:
    """A JPEG carrying camera metadata a reader should never get: GPS position, a comment."""
    image = Image.new("RGB", size, (30, 60, 200))
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(230, 0, 0))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPSInfo
    if orientation:
        exif[0x0112] = orientation
    return encoded(image, "JPEG", exif=exif.tobytes(), comment=b"shot at the safe house")
