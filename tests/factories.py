import importlib

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from explainers.models import Explainer, Source, Topic
from explainers.services import source_snapshot


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


ROLES = importlib.import_module("explainers.migrations.0005_roles").ROLES


def role(name: str) -> Group:
    """The group the roles migration made; rebuilt after a transactional test's flush."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="explainers", codename__in=ROLES[name]
            )
        )
    return group


def editor(username: str = "editor"):
    """A member of the Editors group, as the roles migration defines it."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(role("Editors"))
    return user


ANALYSTS = [
    *importlib.import_module("feedback.migrations.0002_analysts_group").PERMISSIONS,
    *(
        ("explainers", codename)
        for codename in importlib.import_module(
            "feedback.migrations.0004_analysts_read_editorial_record"
        ).EDITORIAL_RECORD
    ),
]


def analyst(username: str = "analyst"):
    """A member of the Analysts group, as the feedback migrations define it (rebuilt after a
    transactional test's flush)."""
    user = UserFactory(username=username, is_staff=True)
    group, created = Group.objects.get_or_create(name="Analysts")
    if created:
        group.permissions.set(
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in ANALYSTS
        )
    user.groups.add(group)
    return user


def writer(username: str = "writer"):
    """A member of the Writers group."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(role("Writers"))
    return user


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class ExplainerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Explainer
        skip_postgeneration_save = True

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

    @factory.post_generation
    def live(self, create, extracted, **kwargs):
        """A published explainer shows its current text, as if an editor had published it."""
        if create and self.status == Explainer.Status.PUBLISHED and not self.live_revision_id:
            self.live_revision = self.history.latest()
            self.public_updated_at = self.published_at
            Explainer.objects.filter(pk=self.pk).update(
                live_revision=self.live_revision, public_updated_at=self.published_at
            )


class SourceFactory(factory.django.DjangoModelFactory):
    """A source that is part of the explainer's current version, and of its live one.

    As if the explainer had been written and published with it: tests that need a source
    added after publication edit it through the admin or the services instead.
    """

    class Meta:
        model = Source

    explainer = factory.SubFactory(ExplainerFactory)
    label = factory.Sequence(lambda n: f"Wire report {n}")
    url = factory.Sequence(lambda n: f"https://news.example.com/story/{n}")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            explainer = instance.explainer
            sources = source_snapshot(explainer)
            Explainer.objects.filter(pk=explainer.pk).update(source_list=sources)
            explainer.history.filter(
                history_id__in=[explainer.live_revision_id, explainer.history.latest().history_id]
            ).update(source_list=sources)
            explainer.source_list = sources
            explainer.refresh_from_db()


def explainer_form_data(**overrides) -> dict:
    """A complete, valid admin add/change form for an explainer with no sources."""
    data = {
        "headline": "Envoy says leaders will discuss guarantees",
        "slug": "",
        "whats_happening": "Leaders met.\n\nThey talked.",
        "why_its_important": "It matters.",
        "whats_next": "More talks.",
        "image_alt": "",
        "image_credit": "",
        "topic": "",
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
        "sources-MIN_NUM_FORMS": "0",
        "sources-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data
