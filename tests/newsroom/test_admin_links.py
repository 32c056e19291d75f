"""No role is shown a link in the admin that answers 403: each role walks every page it may open."""

import html
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

from explainers import services
from explainers.models import Notice
from tests.factories import ExplainerFactory, SourceFactory, TopicFactory, analyst, editor, writer
from tests.feedback.rating_factories import rate

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="([^"]*)"')
# Leaving the admin, or a page that only answers a POST.
SKIP = ("/admin/logout/", "/admin/jsi18n/")
# Filter and sort links vary a list endlessly: a few variations of each page show its links.
VARIATIONS_PER_PATH = 4
MAX_PAGES = 400


@pytest.fixture
def newsroom():
    """Explainers in every state, with sources, notices, preview links and ratings."""
    boss, author = editor("boss"), writer("author")
    topic = TopicFactory(name="Diplomacy")
    draft = ExplainerFactory(headline="A draft", topic=topic, created_by=author)
    SourceFactory(explainer=draft)
    review = ExplainerFactory(headline="In review", ai_generated=True, created_by=author)
    services.explainer_submit(explainer=review, user=author)
    live = ExplainerFactory(headline="Live", topic=topic, published=True)
    services.notice_add(explainer=live, user=boss, kind=Notice.Kind.CORRECTION, text="Fixed.")
    services.preview_link_create(explainer=draft, user=boss, label="Lawyer", days=2)
    rate(live, useful=6, not_useful=2, reason="missing-context")
    archived = ExplainerFactory(headline="Old", published=True)
    services.explainer_archive(explainer=archived, user=boss)
    return [draft, review, live, archived]


def links(page_url: str, text: str) -> set[str]:
    found = set()
    for raw in HREF.findall(text):
        url = urljoin(page_url, html.unescape(raw))
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or not parts.path.startswith("/admin/"):
            continue
        if parts.path.startswith(SKIP):
            continue
        found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(user) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Every admin page reachable from the home page by ``user``: status codes and referrers."""
    client = Client()
    client.force_login(user)
    status, linked_from, per_path = {}, {}, {}
    queue = deque(["/admin/"])
    while queue and len(status) < MAX_PAGES:
        url = queue.popleft()
        if url in status:
            continue
        path = urlsplit(url).path
        if "?" in url and per_path.get(path, 0) >= VARIATIONS_PER_PATH:
            continue
        per_path[path] = per_path.get(path, 0) + 1
        response = client.get(url)
        status[url] = response.status_code
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for link in links(url, response.content.decode()):
            linked_from.setdefault(link, set()).add(url)
            if link not in status:
                queue.append(link)
    return status, linked_from


@pytest.mark.parametrize("role", [writer, editor, analyst], ids=["writer", "editor", "analyst"])
def test_no_link_on_an_admin_page_leads_to_a_403(newsroom, role):
    """Every link a Writer, Editor or Analyst is shown in the admin opens for them."""
    status, linked_from = crawl(role(f"crawling-{role.__name__}"))
    refused = {
        url: sorted(linked_from.get(url, ()))[:2] for url, code in status.items() if code == 403
    }
    assert refused == {}
    assert len(status) > 10, status
    assert not [url for url, code in status.items() if code >= 500]
