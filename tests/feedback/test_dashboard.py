"""The analysts' panels on the admin's home page."""

import pytest

from newsroom.dashboard import panels_for
from tests.factories import ExplainerFactory, analyst
from tests.feedback.rating_factories import edit, rate

pytestmark = pytest.mark.django_db


def panel(user, title: str) -> dict:
    return next(entry for entry in panels_for(user) if entry["panel"].title == title)


def test_this_weeks_best_and_worst(settings):
    """This week's ranked explainers split in two halves by lower bound, best first."""
    settings.FEEDBACK_MIN_VOTES = 5
    for headline, useful in (("Good", 9), ("Fair", 7), ("Poor", 4), ("Bad", 1)):
        rate(
            ExplainerFactory(headline=headline, published=True),
            useful=useful,
            not_useful=10 - useful,
        )
    user = analyst()
    best = panel(user, "Most useful this week")
    worst = panel(user, "Least useful this week")
    assert [i.label for i in best["items"]] == ["Good", "Fair"] and best["total"] == 2
    assert [i.label for i in worst["items"]] == ["Bad", "Poor"] and worst["total"] == 2
    assert best["items"][0].meta.startswith("lower bound ")


def test_an_explainer_is_never_both_most_and_least_useful(settings):
    """Few rated explainers: none in both panels; the middle one and the unrated in neither."""
    settings.FEEDBACK_MIN_VOTES = 5
    good = ExplainerFactory(headline="Good", published=True)
    middle = ExplainerFactory(headline="Middle", published=True)
    bad = ExplainerFactory(headline="Bad", published=True)
    quiet = ExplainerFactory(headline="Quiet", published=True)
    rate(good, useful=9, not_useful=1)
    rate(middle, useful=5, not_useful=5)
    rate(bad, useful=1, not_useful=9)
    rate(quiet, useful=2)
    user = analyst()
    best = [i.label for i in panel(user, "Most useful this week")["items"]]
    worst = [i.label for i in panel(user, "Least useful this week")["items"]]
    assert best == ["Good"] and worst == ["Bad"]


def test_one_rated_explainer_is_neither_best_nor_worst(settings):
    """A single explainer with enough votes is not both the most and the least useful."""
    settings.FEEDBACK_MIN_VOTES = 5
    rate(ExplainerFactory(headline="Alone", published=True), useful=6, not_useful=1)
    user = analyst()
    for title in ("Most useful this week", "Least useful this week"):
        entry = panel(user, title)
        assert entry["items"] == [] and "enough votes" in entry["panel"].empty


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
