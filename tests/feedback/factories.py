import factory

from feedback.models import Rating
from tests.factories import ExplainerFactory


class RatingFactory(factory.django.DjangoModelFactory):
    """A "yes" vote by a new reader on a published explainer.

    ``created_at`` and ``updated_at`` may be given: the model stamps them itself on save
    (auto_now_add, auto_now), so the factory writes them with an update afterwards.
    """

    class Meta:
        model = Rating

    explainer = factory.SubFactory(ExplainerFactory, published=True)
    reader = factory.Sequence(lambda n: f"{n:064x}")
    useful = True
    explainer_version = 1

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        stamps = {name: kwargs.pop(name) for name in ("created_at", "updated_at") if name in kwargs}
        rating = super()._create(model_class, *args, **kwargs)
        if stamps:
            stamps.setdefault("updated_at", stamps.get("created_at"))
            model_class.objects.filter(pk=rating.pk).update(**stamps)
            for name, value in stamps.items():
                setattr(rating, name, value)
        return rating
