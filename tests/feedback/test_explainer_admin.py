import pytest
from django.contrib import admin
from django.urls import reverse

from explainers.admin import ExplainerAdmin
from explainers.models import Explainer
from feedback.admin import ExplainerWithFeedbackAdmin
from tests.factories import ExplainerFactory
from tests.feedback.rating_factories import rate

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:explainers_explainer_changelist")
FEEDBACK_COLUMNS = ("feedback_votes", "feedback_share", "feedback_lower_bound")


def test_feedback_registers_the_explainer_admin_with_its_columns():
    """The site's explainer admin is feedback's subclass: explainers' columns, then the votes."""
    model_admin = admin.site.get_model_admin(Explainer)
    assert type(model_admin) is ExplainerWithFeedbackAdmin
    assert model_admin.list_display == (*ExplainerAdmin.list_display, *FEEDBACK_COLUMNS)


def test_explainers_admin_knows_nothing_of_feedback(rf, superuser):
    """Explainers' own admin lists no vote columns and annotates no votes."""
    assert not set(FEEDBACK_COLUMNS) & set(ExplainerAdmin.list_display)
    request = rf.get(CHANGELIST)
    request.user = superuser
    queryset = ExplainerAdmin(Explainer, admin.site).get_queryset(request)
    assert not queryset.query.annotations


def test_changelist_shows_votes_share_and_lower_bound(admin_client, settings):
    """Each explainer's row reads its votes, its useful share and the share's lower bound."""
    settings.FEEDBACK_MIN_VOTES = 10
    rate(ExplainerFactory(headline="Eight of ten"), useful=8, not_useful=2)
    response = admin_client.get(CHANGELIST)
    (row,) = response.context["results"]
    cells = [str(cell) for cell in row]
    assert ">10<" in cells[-3] and ">80%<" in cells[-2] and ">49%<" in cells[-1]


def test_changelist_sorts_by_lower_bound_with_too_few_votes_last(admin_client):
    """Sorting by lower bound, either way, leaves explainers with too few votes at the end."""
    high, low, few = (ExplainerFactory() for _ in range(3))
    rate(high, useful=10)
    rate(low, not_useful=10)
    rate(few, useful=1)
    column = admin_client.get(CHANGELIST).context["cl"].list_display.index("feedback_lower_bound")
    for order, expected in ((f"{column}", [low, high, few]), (f"-{column}", [high, low, few])):
        response = admin_client.get(CHANGELIST, {"o": order})
        assert list(response.context["cl"].result_list) == expected


def test_changelist_counts_votes_in_the_same_query(admin_client, django_assert_max_num_queries):
    """Votes come annotated: more rated explainers cost no more queries."""
    for _ in range(15):
        rate(ExplainerFactory(), useful=2, not_useful=1)
    with django_assert_max_num_queries(10):
        assert admin_client.get(CHANGELIST).status_code == 200
