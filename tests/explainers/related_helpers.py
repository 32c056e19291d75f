"""Helpers shared by the tests of the related list and of the explainer page that shows it."""

import re
from html import unescape

from explainers import services
from explainers.models import Explainer
from tests.factories import ExplainerFactory, editor


def publish(**fields) -> Explainer:
    """Published through the services, so that search (and the related list) finds it."""
    explainer = ExplainerFactory(**fields)
    services.explainer_publish(explainer=explainer, user=editor("related-editor"))
    explainer.refresh_from_db()
    return explainer


def schedule_edit(explainer: Explainer, *, at, **changes) -> Explainer:
    """Edit a live explainer and schedule the edit for ``at``."""
    for name, value in changes.items():
        setattr(explainer, name, value)
    services.explainer_record_edit(explainer=explainer, user=editor("related-editor"))
    services.explainer_publish(explainer=explainer, user=editor("related-editor"), at=at)
    return Explainer.objects.get(pk=explainer.pk)


def related_titles(client, explainer) -> list[str]:
    """The headlines of the related list on ``explainer``'s page, in order."""
    html = client.get(explainer.get_absolute_url()).text
    if 'id="related-heading"' not in html:
        return []
    related = html[html.index('id="related-heading"') :]
    return [
        unescape(t) for t in re.findall(r'class="card-title"><a href="[^"]+">([^<]+)</a>', related)
    ]
