import pytest
from django.db import IntegrityError, connection, transaction

from feedback.models import Reason
from tests.feedback.rating_factories import RatingFactory

pytestmark = pytest.mark.django_db


def test_database_refuses_an_unknown_reason():
    """Only the listed reasons (or none) can be stored, whatever path writes the row."""
    with pytest.raises(IntegrityError), transaction.atomic():
        RatingFactory(useful=False, reason="boring")
    assert RatingFactory(useful=False, reason=Reason.TOO_LONG).reason == "too-long"


def test_ratings_have_no_index_on_the_explainer_alone():
    """Lookups by explainer use the composite indexes; a lone one would only slow votes."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "feedback_rating")
    indexed = [info["columns"] for info in constraints.values() if info["index"] or info["unique"]]
    assert ["explainer_id"] not in indexed
    assert ["explainer_id", "reader"] in indexed and ["explainer_id", "created_at"] in indexed
