import pytest
from django.db import connection

from explainers import search, services
from explainers.models import Explainer
from tests.explainers.admin_client import png
from tests.factories import ExplainerFactory, SourceFactory, TopicFactory, editor


@pytest.fixture
def live(db):
    """A live explainer with a topic, an image and a source, as an editor published it."""
    explainer = ExplainerFactory(
        slug="approved-slug",
        headline="Approved headline",
        topic=TopicFactory(name="Approved topic"),
        image=png("approved.png", "blue"),
        image_alt="Approved description",
        image_credit="Approved credit",
    )
    SourceFactory(explainer=explainer, label="Approved source", url="https://approved.example/")
    explainer.refresh_from_db()
    services.explainer_publish(explainer=explainer, user=editor())
    return Explainer.objects.get(pk=explainer.pk)


# Words that only non-public text contains: no reader surface may ever show one.
SECRET_WORDS = (
    "narwhal",  # a draft
    "quokka",  # a pending edit of a live explainer
    "okapi",  # changes scheduled for a live explainer, not yet due
    "axolotl",  # a first publication scheduled for later
    "pangolin",  # an expired explainer
    "tapir",  # an archived explainer
    "wombat",  # an unpublished explainer
)


def _secret(word: str, **kwargs) -> Explainer:
    topic = TopicFactory(name=f"Topic {word}", slug=f"topic-{word}")
    return ExplainerFactory(
        headline=f"Headline {word} security talks",
        slug=f"secret-{word}",
        whats_happening=f"Leaders met about {word}. Security talks went on.",
        topic=topic,
        **kwargs,
    )


@pytest.fixture
def unseen(db):
    """One explainer of each kind readers must never see, plus a live one with hidden edits.

    Returns the live explainer; its approved text says "Approved headline", and each secret
    word in SECRET_WORDS appears only in text readers may not see.
    """
    from django.utils import timezone

    now = timezone.now()
    boss = editor("unseen-boss")
    _secret("narwhal")
    _secret("axolotl", published=True, published_at=now + timezone.timedelta(days=1))
    _secret(
        "pangolin",
        published=True,
        published_at=now - timezone.timedelta(days=3),
        expires_at=now - timezone.timedelta(days=1),
    )
    for word, status in (("tapir", "archived"), ("wombat", "unpublished")):
        gone = _secret(word, published=True)
        Explainer.objects.filter(pk=gone.pk).update(status=status)
    live = ExplainerFactory(
        headline="Approved headline security talks",
        slug="approved-security-talks",
        topic=TopicFactory(name="Approved topic", slug="approved-topic"),
    )
    services.explainer_publish(explainer=live, user=boss)
    scheduled = ExplainerFactory(headline="Scheduled host security talks", topic=live.topic)
    services.explainer_publish(explainer=scheduled, user=boss)
    scheduled.headline = "Headline okapi security talks"
    scheduled.whats_happening = "Leaders met about okapi. Security talks went on."
    scheduled.topic = TopicFactory(name="Topic okapi", slug="topic-okapi")
    scheduled.save()
    services.explainer_publish(explainer=scheduled, user=boss, at=now + timezone.timedelta(days=1))
    live.refresh_from_db()
    live.headline = "Headline quokka security talks"
    live.whats_happening = "Leaders met about quokka. Security talks went on."
    live.topic = TopicFactory(name="Topic quokka", slug="topic-quokka")
    live.save()
    return Explainer.objects.get(pk=live.pk)


@pytest.fixture(params=["native", "basic"])
def engine(request, monkeypatch):
    """Each test runs on the database's own engine, and on SQLite also without FTS5."""
    if request.param == "basic":
        if connection.vendor != "sqlite":
            pytest.skip("the basic engine is SQLite's fallback")
        monkeypatch.setattr(search, "engine", lambda: "basic")
    return search.engine()
