import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from explainers.models import Explainer, Source, Topic


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class ExplainerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Explainer

    headline = factory.Sequence(lambda n: f"Envoy announces security talks, part {n}")
    slug = factory.Sequence(lambda n: f"envoy-announces-security-talks-{n}")
    whats_happening = "Leaders met in Washington. They agreed to talk.\n\nA second paragraph."
    why_its_important = "The talks could shape the region's security."
    whats_next = "A further meeting is expected next week."
    status = Explainer.Status.DRAFT

    class Params:
        published = factory.Trait(
            status=Explainer.Status.PUBLISHED,
            published_at=factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(hours=1)),
        )


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    explainer = factory.SubFactory(ExplainerFactory)
    label = factory.Sequence(lambda n: f"Wire report {n}")
    url = factory.Sequence(lambda n: f"https://news.example.com/story/{n}")
