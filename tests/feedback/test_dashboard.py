"""The analysts' panels on the admin's home page."""

import pytest

from newsroom.dashboard import panels_for
from tests.factories import ExplainerFactory, analyst
from tests.feedback.rating_factories import edit, rate

pytestmark = pytest.mark.django_db


def panel(user, title: str) -> dict:
    return next(entry for entry in panels_for(user) if entry["panel"].title == title)


def test_this_weeks_best_and_worst(settings):
    """This week's explainers rank by lower bound; too few votes are said so and come last."""
    settings.FEEDBACK_MIN_VOTES = 5
    good = ExplainerFactory(headline="Good", published=True)
    bad = ExplainerFactory(headline="Bad", published=True)
    quiet = ExplainerFactory(headline="Quiet", published=True)
    rate(good, useful=9, not_useful=1)
    rate(bad, useful=1, not_useful=9)
    rate(quiet, useful=2)
    user = analyst()
    best = panel(user, "Most useful this week")["items"]
    worst = panel(user, "Least useful this week")["items"]
    assert [i.label for i in best] == ["Good", "Bad", "Quiet"]
    assert [i.label for i in worst] == ["Bad", "Good", "Quiet"]
    assert "too few votes" in best[-1].meta


def test_moved_most_after_a_new_version(settings):
    """An explainer whose share changed with its new version is listed with both shares."""
    settings.FEEDBACK_MIN_VOTES = 2
    explainer = ExplainerFactory(headline="Improved", published=True)
    rate(explainer, useful=1, not_useful=3)
    edit(explainer, "Clearer outlook.", days_ago=0)
    from explainers import services

    services.explainer_publish(explainer=explainer, user=None)
    rate(explainer, useful=4)
    (item,) = panel(analyst(), "Useful share moved most after a new version")["items"]
    assert item.label == "Improved" and item.meta == "25% before version 2, 100% since"


def test_latest_no_answers_with_a_reason_or_comment():
    """Only No answers that say something are listed, newest first."""
    explainer = ExplainerFactory(headline="Rated", published=True)
    rate(explainer, useful=3)
    rate(explainer, not_useful=1, reason="")
    rate(explainer, not_useful=1, reason="out-of-date")
    entry = panel(analyst(), "Latest “No” answers with a reason or comment")
    assert entry["total"] == 1 and "It is out of date" in entry["items"][0].meta
