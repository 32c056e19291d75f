"""Readable differences between two revisions of an explainer, for editors."""

import difflib
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import SECTION_FIELDS, VERSIONED_FIELDS, Explainer, version_value

_TOKENS = re.compile(r"\s+|[^\s]+")
# Besides what readers see, editors compare the status each revision was saved in.
COMPARED_FIELDS = (*VERSIONED_FIELDS, "status")
WORD_FIELDS = ("headline", *SECTION_FIELDS)


def word_diff(old: str, new: str) -> SafeString:
    """``new`` with words removed since ``old`` in <del> and words added in <ins>, escaped."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in {"delete", "replace"}:
            parts.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if op in {"insert", "replace"}:
            parts.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
        if op == "equal":
            parts.append(escape("".join(a[i1:i2])))
    return mark_safe("".join(parts))


def source_diff(old: list[dict], new: list[dict]) -> list[dict]:
    """The sources of ``new`` in order, with those dropped since ``old`` where they stood.

    Each item is ``{"op": "same" | "added" | "removed", "label": …, "url": …}``; a source
    whose label or address changed shows as removed and added.
    """
    a = [(item["label"], item["url"]) for item in old or []]
    b = [(item["label"], item["url"]) for item in new or []]
    items = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            items += [{"op": "same", "label": lb, "url": url} for lb, url in a[i1:i2]]
            continue
        items += [{"op": "removed", "label": lb, "url": url} for lb, url in a[i1:i2]]
        items += [{"op": "added", "label": lb, "url": url} for lb, url in b[j1:j2]]
    return items


def _image(revision) -> dict | None:
    image = revision.lead_image
    if image is None:
        return None
    return {"url": image.url, "alt": revision.image_alt, "credit": revision.image_credit}


def compare(old, new) -> list[dict]:
    """One row per field that differs between two revisions, in the form's order.

    A row has a ``kind``: "words" (a word diff), "image" (before and after thumbnails with
    their descriptions), "sources" (a list diff) or "value" (before → after).
    """
    rows = []
    for name in COMPARED_FIELDS:
        if name == "image_alt":
            continue  # shown with the image it describes
        before, after = version_value(old, name), version_value(new, name)
        if name == "image":
            before, after = (before, old.image_alt), (after, new.image_alt)
        if before == after:
            continue
        label = str(Explainer._meta.get_field(name).verbose_name)
        if name in WORD_FIELDS:
            rows.append({"label": label, "kind": "words", "diff": word_diff(before, after)})
        elif name == "image":
            rows.append(
                {"label": label, "kind": "image", "before": _image(old), "after": _image(new)}
            )
        elif name == "source_list":
            rows.append({"label": label, "kind": "sources", "items": source_diff(before, after)})
        else:
            if name == "topic":
                before, after = old.topic, new.topic
            elif name == "status":
                before, after = old.get_status_display(), new.get_status_display()
            elif isinstance(before, bool) or isinstance(after, bool):
                before, after = ("Yes" if before else "No"), ("Yes" if after else "No")
            elif name in {"image_focal_x", "image_focal_y"}:
                before, after = f"{before}%", f"{after}%"  # 0% is a place, not "(empty)"
            rows.append({"label": label, "kind": "value", "before": before, "after": after})
    return rows
