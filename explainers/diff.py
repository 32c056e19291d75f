"""Readable differences between two revisions of an explainer, for editors."""

import difflib
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import CONTENT_FIELDS, SECTION_FIELDS, Explainer, Topic

_TOKENS = re.compile(r"\s+|[^\s]+")
# Besides the text, what an editor compares between two revisions.
COMPARED_FIELDS = (*CONTENT_FIELDS, "slug", "topic_id", "status", "image", "image_alt")


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


def compare(old, new) -> list[dict]:
    """One row per field that differs between two revisions, in the form's order."""
    rows = []
    for name in COMPARED_FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            continue
        label = str(Explainer._meta.get_field(name.removesuffix("_id")).verbose_name)
        if name == "topic_id":
            names = dict(Topic.objects.filter(pk__in=[before, after]).values_list("pk", "name"))
            before, after = names.get(before, "none"), names.get(after, "none")
        if name in SECTION_FIELDS or name == "headline":
            rows.append({"label": label, "diff": word_diff(before, after), "words": True})
        else:
            rows.append({"label": label, "before": before, "after": after, "words": False})
    return rows
