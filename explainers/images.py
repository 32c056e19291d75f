"""Lead-image uploads made safe before anything is stored.

An upload is refused, with a message for the field, when it is larger than
``MAX_IMAGE_UPLOAD_BYTES`` (checked before anything reads it as an image), is not a JPEG,
PNG, WebP or GIF by its first bytes (whatever its name says), carries web page code (a
"polyglot", such as a GIF that is also an HTML page), has more than ``MAX_IMAGE_PIXELS``
pixels (read from its header, before decoding, with Pillow's decompression-bomb check), or
does not decode. What is kept is Pillow's re-encoding of the
pixels alone, turned upright and into sRGB: anything appended to the file or hidden in its
metadata (EXIF with GPS positions, comments, scripts) is gone. It is stored under a random
name that nobody can guess.
"""

import io
import re
import secrets
import warnings
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin, UnidentifiedImageError

# Google shows an article's image large only from this width on.
SEARCH_ENGINE_MIN_WIDTH = 1200

# Each accepted kind, recognised by its first bytes, and how it is stored. A GIF keeps only
# its first frame, as a PNG: lossless, and no animation for the page to carry.
STORED_AS = {
    "JPEG": ("JPEG", "jpg", "image/jpeg"),
    "PNG": ("PNG", "png", "image/png"),
    "WEBP": ("WEBP", "webp", "image/webp"),
    "GIF": ("PNG", "png", "image/png"),
}
ACCEPT = "image/jpeg,image/png,image/webp,image/gif"

_SRGB = ImageCms.createProfile("sRGB")
# Web page code hidden in or after a picture (a "polyglot": a GIF that is also an HTML page, a
# JPEG carrying PHP). A browser or a misconfigured server may run it; a photo never has it.
_MARKUP = re.compile(rb"<(?:script|html|body|iframe|!doctype|\?php)", re.IGNORECASE)


EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif"}


def upload_path(instance, filename: str) -> str:
    """A name nobody can guess (128 random bits), keeping only an image extension: a web
    server that runs files by their extension (.php, .html) must never be handed one."""
    suffix = PurePath(filename).suffix.lower()
    return f"explainers/{secrets.token_hex(16)}{suffix if suffix in EXTENSIONS else ''}"


def sniff(head: bytes) -> str | None:
    """The kind of image the first bytes announce, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


@dataclass
class SafeImage:
    """A re-encoded upload, ready for the model's ImageField, and what the editor should know."""

    file: SimpleUploadedFile
    width: int
    height: int
    notes: list[str] = field(default_factory=list)


def _refuse(message: str, code: str, **params) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def _open(upload, kind: str, max_pixels: int) -> Image.Image:
    """Open (read the header only) and refuse too many pixels before a byte is decoded."""
    try:
        with warnings.catch_warnings():
            # Pillow warns between its limit and twice that, and raises beyond: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload, formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(
            "This image has more than %(limit)s megapixels, the most allowed. Resize it "
            "and upload it again.",
            "too_many_pixels",
            limit=max_pixels // 1_000_000,
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refuse(
            "This file says it is a %(kind)s image but cannot be read as one. "
            "Export it again from your photo editor.",
            "invalid_image",
            kind=kind,
        ) from None
    _check_pixels(image, max_pixels)
    return image


def _check_pixels(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise _refuse(
            "This image is %(width)s × %(height)s pixels (%(mp)s megapixels); the largest "
            "allowed is %(limit)s megapixels. Resize it and upload it again.",
            "too_many_pixels",
            width=width,
            height=height,
            mp=round(width * height / 1_000_000, 1),
            limit=max_pixels // 1_000_000,
        )


def _normalise(image: Image.Image) -> Image.Image:
    """Upright, in sRGB, as RGB (RGBA when transparent): what every browser shows alike."""
    icc = image.info.get("icc_profile")
    # Phones store the camera's rotation as metadata, which is about to be stripped. In place:
    # a copy of a 40-megapixel picture is 120 MB more.
    ImageOps.exif_transpose(image, in_place=True)
    transparent = image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    )
    if icc and image.mode in {"RGB", "RGBA", "CMYK", "L"}:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = "RGBA" if image.mode == "RGBA" else "RGB"
            return ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixels as they are
    mode = "RGBA" if transparent else "RGB"
    return image if image.mode == mode else image.convert(mode)


def _jpeg_options(image: Image.Image) -> dict:
    """Re-encode a JPEG with its own quantisation tables: that loses next to nothing."""
    if isinstance(image, JpegImagePlugin.JpegImageFile) and image.mode == "RGB":
        tables = getattr(image, "quantization", None)
        sampling = JpegImagePlugin.get_sampling(image)
        if tables and len(tables) >= 2 and sampling != -1:
            return {"qtables": [tables[i] for i in sorted(tables)], "subsampling": sampling}
    return {"quality": 95}


def make_safe(upload) -> SafeImage:
    """Check ``upload`` and re-encode it through Pillow; ValidationError says what is wrong."""
    limit = settings.MAX_IMAGE_UPLOAD_BYTES
    if upload.size > limit:
        raise _refuse(
            "This file is %(size)s; the largest allowed is %(limit)s. Save a smaller copy "
            "(1600 to 2400 pixels wide is plenty) and upload that.",
            "file_too_large",
            size=filesizeformat(upload.size),
            limit=filesizeformat(limit),
        )
    upload.seek(0)
    data = upload.read()  # at most MAX_IMAGE_UPLOAD_BYTES, as just checked
    kind = sniff(data[:16])
    if kind is None:
        raise _refuse(
            "This file is not a JPEG, PNG, WebP or GIF image, whatever its name says. Export "
            "the picture in one of those formats and upload it again.",
            "invalid_image_type",
        )
    if _MARKUP.search(data):
        raise _refuse(
            "This file carries web page code (HTML or a script) besides the picture, so it is "
            "refused. Open the picture in a photo editor, export it again and upload that.",
            "image_with_markup",
        )
    upload = io.BytesIO(data)
    image = _open(upload, kind, settings.MAX_IMAGE_PIXELS)
    try:
        image.seek(0)  # an animation keeps its first frame only
        image.load()  # decode every pixel: a truncated or corrupt file fails here
        # A GIF's frame may widen the canvas past what its header said: check again.
        _check_pixels(image, settings.MAX_IMAGE_PIXELS)
        jpeg_options = _jpeg_options(image)
        clean = _normalise(image)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise _refuse(
            "This %(kind)s file is damaged or incomplete and cannot be decoded. Export it "
            "again from your photo editor.",
            "invalid_image",
            kind=kind,
        ) from None
    fmt, extension, content_type = STORED_AS[kind]
    options = {}
    if fmt == "JPEG":
        options = jpeg_options
    elif fmt == "WEBP":
        options = {"quality": 95, "method": 4}
    clean.info = {}  # nothing of the upload's metadata is written back
    buffer = io.BytesIO()
    clean.save(buffer, fmt, **options)
    width, height = clean.size
    notes = []
    if width < SEARCH_ENGINE_MIN_WIDTH:
        notes.append(
            f"The lead image is {width} pixels wide. It is used, but search engines and news "
            f"apps may show it only as a small thumbnail: they want at least "
            f"{SEARCH_ENGINE_MIN_WIDTH} pixels."
        )
    safe = SimpleUploadedFile(f"lead.{extension}", buffer.getvalue(), content_type=content_type)
    return SafeImage(file=safe, width=width, height=height, notes=notes)
