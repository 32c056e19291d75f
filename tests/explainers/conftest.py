import pytest

from explainers import services
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
