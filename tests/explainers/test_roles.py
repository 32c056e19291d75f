import pytest
from django.core.exceptions import PermissionDenied

from explainers import services
from explainers.models import Explainer
from tests.factories import ExplainerFactory, analyst, editor, writer

pytestmark = pytest.mark.django_db

Status = Explainer.Status


ROLES = {"writer": writer, "editor": editor, "analyst": analyst}

# (transition, the state it starts from, extra arguments, roles allowed)
TRANSITIONS = [
    (services.explainer_submit, Status.DRAFT, {}, {"writer", "editor"}),
    (services.explainer_send_back, Status.IN_REVIEW, {"comment": "Fix"}, {"editor"}),
    (services.explainer_sign_off, Status.IN_REVIEW, {"ai": True}, {"editor"}),
    (services.explainer_publish, Status.IN_REVIEW, {}, {"editor"}),
    (services.explainer_unpublish, Status.PUBLISHED, {}, {"editor"}),
    (services.explainer_archive, Status.DRAFT, {}, {"editor"}),
]


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize(
    ("transition", "start", "extra", "allowed"),
    TRANSITIONS,
    ids=[t[0].__name__ for t in TRANSITIONS],
)
def test_each_transition_for_each_role(role, transition, start, extra, allowed):
    """Every workflow step is allowed to exactly the roles the workflow gives it."""
    published = start == Status.PUBLISHED
    extra = dict(extra)
    explainer = ExplainerFactory(
        published=published, status=start, ai_generated=extra.pop("ai", False)
    )
    user = ROLES[role]()
    if role in allowed:
        transition(explainer=explainer, user=user, **extra)
        assert explainer.events.first().user == user
    else:
        with pytest.raises(PermissionDenied):
            transition(explainer=explainer, user=user, **extra)
        explainer.refresh_from_db()
        assert explainer.status == start and not explainer.events.exists()
