"""Driving the explainer admin as a logged-in user, for tests."""

import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from explainers.models import Explainer
from tests.factories import explainer_form_data, writer


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, explainer: Explainer, *args) -> str:
    return reverse(f"admin:explainers_explainer_{name}", args=[explainer.pk, *args])


# The Workflow panel's own fields; everything else posted is the explainer's change form.
PANEL_FIELDS = ("comment", "publish_at", "expires_at")


def transition(client: Client, explainer: Explainer, action: str, *, confirm: bool = True, **data):
    """Press a Workflow panel button on the explainer's change page, as a browser does.

    The whole change form goes with it, as the page rendered it for the explainer's current
    version, with ``data`` typed in: the panel's comment or times, or any field of the form
    (a changed section, ``sources``). ``confirm`` answers yes to a step that asks first
    (as the page's script does); without it the server asks.
    """
    page = client.get(url("change", explainer))
    current = Explainer.objects.get(pk=explainer.pk)
    panel = {f"workflow-{name}": data.pop(name) for name in PANEL_FIELDS if name in data}
    form = full_change_data(current, loaded_at_of(page), **data)
    form.update(panel)
    form["workflow-action"] = action
    if confirm:
        form["workflow-confirmed"] = action
    return client.post(url("change", explainer), form, follow=True)


def change_data(explainer: Explainer, loaded_at: str, **overrides) -> dict:
    fields = ("headline", "slug", "whats_happening", "why_its_important", "whats_next")
    current = {field: getattr(explainer, field) for field in fields}
    return explainer_form_data(**{**current, "loaded_at": loaded_at, **overrides})


def loaded_at_of(response) -> str:
    return re.search(r'name="loaded_at" value="([^"]+)"', response.text).group(1)


def full_change_data(explainer: Explainer, loaded_at: str, *, sources=None, **overrides) -> dict:
    """The change form as the admin renders it for ``explainer``, with ``overrides`` typed in.

    ``sources`` replaces the Sources rows: a list of (label, url); existing rows not in it
    are deleted.
    """
    data = change_data(
        explainer,
        loaded_at,
        topic=explainer.topic_id or "",
        image_alt=explainer.image_alt,
        image_credit=explainer.image_credit,
        image_focal_x=explainer.image_focal_x,
        image_focal_y=explainer.image_focal_y,
    )
    if explainer.ai_generated:
        data["ai_generated"] = "on"
    if explainer.image_ai_generated:
        data["image_ai_generated"] = "on"
    existing = list(explainer.sources.all())
    wanted = [(s.label, s.url) for s in existing] if sources is None else list(sources)
    rows = max(len(existing), len(wanted))
    data.update({"sources-TOTAL_FORMS": str(rows), "sources-INITIAL_FORMS": str(len(existing))})
    for index in range(rows):
        prefix = f"sources-{index}-"
        if index < len(existing):
            data[prefix + "id"] = str(existing[index].pk)
            data[prefix + "explainer"] = str(explainer.pk)
        if index < len(wanted):
            label, address = wanted[index]
            data.update(
                {prefix + "label": label, prefix + "url": address, prefix + "position": index}
            )
        else:
            data[prefix + "DELETE"] = "on"
            data.update(
                {prefix + "label": existing[index].label, prefix + "url": existing[index].url}
            )
    data.update(overrides)
    for flag in ("ai_generated", "image_ai_generated"):
        if data.get(flag) is False:
            del data[flag]
    return data


def png(name: str = "photo.png", colour: str = "red") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def writer_edits(explainer: Explainer, **changes):
    """A writer opens the live explainer in the admin, makes ``changes`` and saves."""
    client = logged_in(writer())
    token = loaded_at_of(client.get(url("change", explainer)))
    data = full_change_data(explainer, token, **changes)
    response = client.post(url("change", explainer), data)
    assert response.status_code == 302, response.context["errors"]
    return client.get(url("change", explainer))
