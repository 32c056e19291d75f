"""Lead-image renditions: the files readers get, made once for each way a version shows an image.

A *rendition set* holds every file made from one original as a version shows it: each width
(480, 800, 1200 and 1600 pixels, never wider than the original) in WebP and JPEG for the
page's ``<picture>``, and JPEG crops at 16:9, 4:3 and 1:1 around the focal point for search
engines and social apps. Every file carries the credit and, for an AI-generated image, IPTC's
``DigitalSourceType`` in its XMP metadata.

Files sit under ``renditions/<random token>/`` and never change once written, so they are
served with immutable caching. Readers' pages name only the sets of the versions they see.
``ensure`` makes a set (after an upload, and on publish); ``prune`` deletes the sets that no
version in use needs any more (after a version replacing them is published); ``withdraw``
deletes them all when an explainer leaves the site, so addresses readers saw stop working.
"""

import contextlib
import hashlib
import io
import json
import logging
import math
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.db import IntegrityError, transaction
from PIL import Image

from .models import Explainer, RenditionSet, version_value

logger = logging.getLogger(__name__)

# Widths for the page's srcset: a phone (480), a laptop's column (800; 640 CSS pixels), and
# twice that for sharp screens. Never wider than the original.
WIDTHS = (480, 800, 1200, 1600)
# Google asks for 16:9, 4:3 and 1:1 versions, at least 1200 pixels wide where possible.
CROPS = (("16x9", 16, 9), ("4x3", 4, 3), ("1x1", 1, 1))
CROP_WIDTH = 1200
# Chosen by measurement (bench/rendition_quality.py, 12 photos at 480 and 1200 px; figures in
# docs/performance.md, "Lead images"): the lowest quality at which the photos keep a mean SSIM of at
# least 0.983 against the resized original and none falls below 0.96. WebP needs 85 for
# that (JPEG 75) and is still a fifth smaller; method 6 would save 3% for 50% more time.
JPEG_QUALITY = 75
WEBP_QUALITY = 85
WEBP_METHOD = 4
# Part of every set's key: changing how files are made gives every set new files.
RECIPE = (1, WIDTHS, CROPS, CROP_WIDTH, JPEG_QUALITY, WEBP_QUALITY, WEBP_METHOD)

AI_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
EXTENSIONS = {"jpeg": "jpg", "webp": "webp"}
MIME_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp"}
# XML 1.0 has no place for other control characters: they are dropped from the credit.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def storage():
    return Explainer._meta.get_field("image").storage


# What is made, in pixels


def crop_box(
    width: int, height: int, ratio_w: int, ratio_h: int, focal_x: float, focal_y: float
) -> tuple[int, int, int, int]:
    """The largest ``ratio_w:ratio_h`` box in the image, centred on the focal point as far as
    the edges allow, so the focal point (percent of width and height) is always inside."""
    if width * ratio_h > height * ratio_w:
        box_w, box_h = max(1, min(width, round(height * ratio_w / ratio_h))), height
    else:
        box_w, box_h = width, max(1, min(height, round(width * ratio_h / ratio_w)))
    left = min(max(round(width * focal_x / 100 - box_w / 2), 0), width - box_w)
    top = min(max(round(height * focal_y / 100 - box_h / 2), 0), height - box_h)
    return left, top, left + box_w, top + box_h


@dataclass(frozen=True)
class Output:
    kind: str  # "w" for a width of the whole picture, else the crop's ratio ("16x9")
    width: int
    height: int
    box: tuple[int, int, int, int]  # the part of the original it shows
    formats: tuple[str, ...]


def plan(width: int, height: int, focal_x: float = 50, focal_y: float = 50) -> list[Output]:
    """Every file of a set, for an original of ``width`` × ``height``; nothing is upscaled."""
    whole = (0, 0, width, height)
    widths = sorted({w for w in WIDTHS if w < width} | {min(width, WIDTHS[-1])})
    outputs = [
        Output("w", w, max(1, round(height * w / width)), whole, ("webp", "jpeg")) for w in widths
    ]
    for name, ratio_w, ratio_h in CROPS:
        box = crop_box(width, height, ratio_w, ratio_h, focal_x, focal_y)
        out_w = min(CROP_WIDTH, box[2] - box[0])
        out_h = max(1, min(box[3] - box[1], round(out_w * ratio_h / ratio_w)))
        outputs.append(Output(name, out_w, out_h, box, ("jpeg",)))
    return outputs


def provenance_xmp(*, credit: str, ai_generated: bool) -> bytes:
    """An XMP packet with IPTC's credit line and, for AI images, its DigitalSourceType."""
    properties = []
    if ai_generated:
        properties.append(
            f"<Iptc4xmpExt:DigitalSourceType>{AI_SOURCE_TYPE}</Iptc4xmpExt:DigitalSourceType>"
        )
    credit = _NOT_XML.sub("", credit or "").strip()
    if credit:
        properties.append(f"<photoshop:Credit>{escape(credit)}</photoshop:Credit>")
    if not properties:
        return b""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">'
        + "".join(properties)
        + "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


@dataclass(frozen=True)
class RenderedFile:
    kind: str
    format: str
    width: int
    height: int
    data: bytes


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG and WebP alike: transparency over white, the page's background."""
    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    # An RGB picture is used as decoded: a copy would double the memory a large PNG takes.
    return image if image.mode == "RGB" else image.convert("RGB")


def _encode(image: Image.Image, fmt: str, xmp: bytes) -> bytes:
    buffer = io.BytesIO()
    extra = {"xmp": xmp} if xmp else {}
    if fmt == "jpeg":
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, **extra)
    else:
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD, **extra)
    return buffer.getvalue()


def render(
    source,
    *,
    focal_x: float = 50,
    focal_y: float = 50,
    credit: str = "",
    ai_generated: bool = False,
    use_draft: bool = True,
) -> Iterator[RenderedFile]:
    """Every file of a set, made from the original in ``source`` (a file or path), one by one.

    A JPEG is decoded straight at 1/2, 1/4 or 1/8 of its size when every output still gets
    enough pixels (Pillow's ``draft()``), and each output is shrunk with ``reduce()`` before
    the Lanczos filter (``reducing_gap``): a 24-megapixel photo then needs a fraction of the
    time and memory of a full decode. ``use_draft=False`` is for the benchmark's baseline.
    """
    xmp = provenance_xmp(credit=credit, ai_generated=ai_generated)
    with Image.open(source) as image:
        width, height = image.size
        outputs = plan(width, height, focal_x, focal_y)
        if use_draft and image.format == "JPEG":
            scale = max(out.width / (out.box[2] - out.box[0]) for out in outputs)
            image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        image.load()  # the pixels stay usable once the file is closed
        base = _flatten(image)
    scale_x, scale_y = base.width / width, base.height / height
    for out in outputs:
        left, top, right, bottom = out.box
        box = (left * scale_x, top * scale_y, right * scale_x, bottom * scale_y)
        resized = base.resize(
            (out.width, out.height), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0
        )
        for fmt in out.formats:
            yield RenderedFile(out.kind, fmt, out.width, out.height, _encode(resized, fmt, xmp))


# Sets: made once, found by key


def image_name(content) -> str:
    return version_value(content, "image")


def source_key(content) -> str:
    """Everything a set's files depend on, hashed: equal keys, identical files."""
    inputs = [
        content.id,
        image_name(content),
        content.image_focal_x,
        content.image_focal_y,
        content.image_credit,
        bool(content.image_ai_generated),
        RECIPE,
    ]
    return hashlib.sha256(json.dumps(inputs).encode()).hexdigest()


def _write(name: str, data: bytes) -> None:
    from django.core.files.base import ContentFile

    files = storage()
    if files.exists(name):
        files.delete(name)
    saved = files.save(name, ContentFile(data))
    if saved != name:
        raise RuntimeError(f"Rendition stored as {saved!r} instead of {name!r}.")


def _delete_files(names: Iterable[str]) -> None:
    files = storage()
    folders = set()
    for name in names:
        files.delete(name)  # a missing file is no error
        folders.add(os.path.dirname(name))
    for folder in folders:
        # Only a local, empty folder goes; other storages have no folders to remove.
        with contextlib.suppress(NotImplementedError, OSError):
            os.rmdir(files.path(folder))


def _make_files(content, token: str) -> list[dict]:
    files = []
    with storage().open(image_name(content), "rb") as source:
        for item in render(
            source,
            focal_x=content.image_focal_x,
            focal_y=content.image_focal_y,
            credit=content.image_credit,
            ai_generated=content.image_ai_generated,
        ):
            name = f"renditions/{token}/{item.kind}-{item.width}.{EXTENSIONS[item.format]}"
            _write(name, item.data)
            files.append(
                {
                    "name": name,
                    "kind": item.kind,
                    "format": item.format,
                    "width": item.width,
                    "height": item.height,
                    "bytes": len(item.data),
                }
            )
    return files


def ensure(content, *, rebuild: bool = False) -> RenditionSet | None:
    """The set for ``content``'s lead image (an explainer or one of its revisions), made if
    missing. Idempotent; ``rebuild`` writes the files again at the same addresses."""
    if not image_name(content):
        return None
    key = source_key(content)
    existing = RenditionSet.objects.filter(source_key=key).first()
    if existing is not None and not rebuild:
        return existing
    token = existing.token if existing is not None else secrets.token_hex(16)
    files = _make_files(content, token)
    if existing is not None:
        existing.files = files
        existing.save(update_fields=["files"])
        return existing
    try:
        with transaction.atomic():
            return RenditionSet.objects.create(
                explainer_id=content.id,
                source_key=key,
                token=token,
                image=image_name(content),
                files=files,
            )
    except IntegrityError:
        # Another process made the same set meanwhile: keep theirs.
        _delete_files(item["name"] for item in files)
        return RenditionSet.objects.get(source_key=key)


def ensure_logged(content) -> RenditionSet | None:
    """``ensure``, for editorial steps: a failure is logged and never fails the step, since
    readers' pages fall back to the original."""
    try:
        # A savepoint: a database error here must not break the step's own transaction.
        with transaction.atomic():
            return ensure(content)
    except Exception:
        logger.exception("Could not make the renditions of explainer %s's lead image.", content.id)
        return None


def is_complete(rendition_set: RenditionSet) -> bool:
    files = storage()
    return bool(rendition_set.files) and all(files.exists(f["name"]) for f in rendition_set.files)


def contents_in_use(explainer: Explainer) -> list:
    """The versions whose renditions may be needed: the working copy (previews) and, while the
    explainer is published, the revisions readers get now or at a scheduled time."""
    contents = [explainer]
    if explainer.status == Explainer.Status.PUBLISHED:
        contents += [explainer.live_revision, explainer.scheduled_revision]
    return [content for content in contents if content is not None and image_name(content)]


def _delete_sets(sets) -> int:
    sets = list(sets)
    for rendition_set in sets:
        _delete_files(item["name"] for item in rendition_set.files)
    RenditionSet.objects.filter(pk__in=[s.pk for s in sets]).delete()
    return len(sets)


def prune(explainer: Explainer) -> int:
    """Delete the sets no version in use needs (e.g. a replaced image's); returns how many."""
    keep = {source_key(content) for content in contents_in_use(explainer)}
    stale = RenditionSet.objects.filter(explainer=explainer).exclude(source_key__in=keep)
    return _delete_sets(stale)


def withdraw(explainer: Explainer) -> None:
    """The explainer left the site: delete every set, so addresses readers saw stop working,
    then make the working copy's again (new addresses) for previews."""
    _delete_sets(RenditionSet.objects.filter(explainer=explainer))
    ensure_logged(explainer)


def forget(explainers) -> None:
    """Explainers are being deleted: their sets' files go once the deletion commits (the
    rows go with the explainers)."""
    names = [
        item["name"]
        for rendition_set in RenditionSet.objects.filter(explainer__in=explainers)
        for item in rendition_set.files
    ]
    transaction.on_commit(lambda: _delete_files(names))


def after_commit(action, explainer_id: int) -> None:
    """Run ``action(explainer)`` once the current transaction commits, on the committed row."""

    def run():
        explainer = (
            Explainer.objects.select_related("live_revision", "scheduled_revision")
            .filter(pk=explainer_id)
            .first()
        )
        if explainer is None:
            return
        try:
            action(explainer)
        except Exception:
            logger.exception("Renditions of explainer %s: %s failed.", explainer_id, action)

    transaction.on_commit(run)


# What a page shows


@dataclass(frozen=True)
class Crop:
    ratio: str  # "16:9"
    url: str
    width: int
    height: int


@dataclass(frozen=True)
class Picture:
    """A lead image as a page shows it: ``<picture>`` sources, the crops, the provenance."""

    alt: str
    credit: str
    ai_generated: bool
    src: str  # the JPEG for browsers that ignore srcset
    width: int  # of the widest rendition: the page reserves the space before it loads
    height: int
    webp_srcset: str = ""
    jpeg_srcset: str = ""
    crops: tuple[Crop, ...] = ()

    @property
    def complete(self) -> bool:
        """False when the page falls back to the original for want of renditions."""
        return bool(self.jpeg_srcset)


def _srcset(files: list[dict], fmt: str) -> str:
    url = storage().url
    chosen = sorted((f for f in files if f["kind"] == "w" and f["format"] == fmt), key=_width)
    return ", ".join(f"{url(f['name'])} {f['width']}w" for f in chosen)


def _width(item: dict) -> int:
    return item["width"]


def picture_from(content, rendition_set: RenditionSet | None) -> Picture:
    provenance = {
        "alt": content.image_alt,
        "credit": content.image_credit,
        "ai_generated": bool(content.image_ai_generated),
    }
    if rendition_set is None:
        image = content.lead_image
        return Picture(
            src=image.url, width=content.image_width, height=content.image_height, **provenance
        )
    url = storage().url
    files = rendition_set.files
    jpegs = sorted((f for f in files if f["kind"] == "w" and f["format"] == "jpeg"), key=_width)
    # Browsers without srcset get the laptop size, or the largest there is below it.
    fallback = next((f for f in reversed(jpegs) if f["width"] <= 800), jpegs[0])
    widest = jpegs[-1]
    crops = tuple(
        Crop(name.replace("x", ":"), url(f["name"]), f["width"], f["height"])
        for name, _, _ in CROPS
        for f in files
        if f["kind"] == name
    )
    return Picture(
        src=url(fallback["name"]),
        width=widest["width"],
        height=widest["height"],
        webp_srcset=_srcset(files, "webp"),
        jpeg_srcset=_srcset(files, "jpeg"),
        crops=crops,
        **provenance,
    )


def sets_for(contents: Iterable) -> dict[str, RenditionSet]:
    """The rendition sets of these versions' lead images, by source key, in one query."""
    keys = [source_key(content) for content in contents if image_name(content)]
    found = RenditionSet.objects.filter(source_key__in=keys).only("source_key", "files")
    return {s.source_key: s for s in found}


@dataclass(frozen=True)
class SharedFile:
    url: str
    length: int  # in bytes
    mime_type: str


def shared_file(rendition_set: RenditionSet | None) -> SharedFile | None:
    """The one file a feed links for a lead image: its 16:9 crop, the picture link previews
    show, with its size in bytes; None without one (the original is never handed out)."""
    if rendition_set is None:
        return None
    chosen = next((f for f in rendition_set.files if f["kind"] == CROPS[0][0]), None)
    if chosen is None:
        return None
    length = chosen.get("bytes")
    if length is None:  # a set made before sizes were recorded
        try:
            length = storage().size(chosen["name"])
        except OSError:
            return None  # the file is gone: a link to it would fail
    return SharedFile(storage().url(chosen["name"]), length, MIME_TYPES[chosen["format"]])


def pictures(contents: Iterable) -> dict[int, Picture]:
    """The lead images of many versions as a list shows them, found in one query, by the id of
    their explainer. Only images whose renditions are made: a list never falls back to a
    large original, as a page does while they are being made."""
    contents = [content for content in contents if image_name(content)]
    if not contents:
        return {}
    found = sets_for(contents)
    return {
        content.id: picture_from(content, found[key])
        for content in contents
        if (key := source_key(content)) in found and any(f["kind"] == "w" for f in found[key].files)
    }


def picture(content) -> Picture | None:
    """The lead image of ``content`` as a page shows it, or None without one.

    Without renditions (not made yet, or lost) the page shows the original, and this is
    logged so that someone runs ``manage.py make_renditions --missing``.
    """
    if not image_name(content):
        return None
    found = RenditionSet.objects.filter(source_key=source_key(content)).first()
    if found is None or not any(f["kind"] == "w" for f in found.files):
        logger.warning(
            "No renditions of explainer %s's lead image %s (version %s): the page shows the "
            "original. Run `manage.py make_renditions --missing`.",
            content.id,
            image_name(content),
            content.version,
        )
        found = None
    return picture_from(content, found)
