import datetime

import pytest
from django.utils import timezone

from explainers.models import Explainer
from feedback import stats
from feedback.models import Reason
from tests.factories import ExplainerFactory, SourceFactory
from tests.feedback.rating_factories import edit, rate

pytestmark = pytest.mark.django_db


def annotated(explainer, **kwargs):
    return stats.with_feedback_stats(Explainer.objects.filter(pk=explainer.pk), **kwargs).get()


@pytest.mark.parametrize(
    ("useful", "votes", "expected"),
    [
        (8, 10, 0.4902),
        (100, 100, 0.9630),
        (0, 10, 0.0),
        (80, 100, 0.7112),
        (1, 1, 0.2065),
        (2, 3, 0.2077),
        (9, 10, 0.5958),
    ],
)
def test_python_wilson_matches_known_values(useful, votes, expected):
    """The Wilson lower bound matches published values to four places."""
    assert stats.wilson_lower_bound(useful, votes) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize("votes", [1, 4, 7, 10, 1000])
def test_python_wilson_of_no_useful_votes_is_exactly_zero(votes):
    """With no useful vote the lower bound is 0, never a rounding error below it."""
    assert stats.wilson_lower_bound(0, votes) == 0.0


def test_python_wilson_without_votes_is_none():
    """With no votes (or a count below zero, which no query gives) there is no lower bound."""
    assert stats.wilson_lower_bound(0, 0) is None
    assert stats.wilson_lower_bound(0, -1) is None


@pytest.mark.parametrize(
    ("useful", "not_useful", "share", "wilson"),
    [(8, 2, 0.8, 0.4902), (100, 0, 1.0, 0.9630), (0, 10, 0.0, 0.0), (3, 9, 0.25, 0.0889)],
)
def test_database_wilson_matches_known_values(useful, not_useful, share, wilson):
    """The database computes the share and the Wilson lower bound to four places."""
    explainer = ExplainerFactory()
    rate(explainer, useful=useful, not_useful=not_useful)
    row = annotated(explainer)
    assert (row.votes, row.useful_votes) == (useful + not_useful, useful)
    assert row.useful_share == pytest.approx(share, abs=5e-5)
    assert row.wilson_lower_bound == pytest.approx(wilson, abs=5e-5)


def test_database_wilson_agrees_with_python_across_counts():
    """For a spread of counts the database and Python give the same lower bound."""
    cases = [(1, 10), (5, 11), (17, 20), (2, 37), (49, 50)]
    explainers = []
    for useful, votes in cases:
        explainer = ExplainerFactory()
        rate(explainer, useful=useful, not_useful=votes - useful)
        explainers.append(explainer)
    rows = stats.with_feedback_stats(Explainer.objects.all()).in_bulk([e.pk for e in explainers])
    for explainer, (useful, votes) in zip(explainers, cases, strict=True):
        expected = stats.wilson_lower_bound(useful, votes)
        assert rows[explainer.pk].wilson_lower_bound == pytest.approx(expected, abs=1e-9)


def test_no_votes_gives_zero_counts_and_no_share():
    """An explainer nobody rated has zero votes and neither share nor lower bound."""
    row = annotated(ExplainerFactory())
    assert (row.votes, row.useful_votes) == (0, 0)
    assert row.useful_share is None and row.wilson_lower_bound is None


def test_too_few_votes_hides_share_and_lower_bound(settings):
    """Below FEEDBACK_MIN_VOTES votes the share and the lower bound are NULL."""
    settings.FEEDBACK_MIN_VOTES = 10
    explainer = ExplainerFactory()
    rate(explainer, useful=9)
    row = annotated(explainer)
    assert row.votes == 9
    assert row.useful_share is None and row.wilson_lower_bound is None


def test_min_votes_can_be_lowered():
    """An explicit min_votes shows shares from that many votes on."""
    explainer = ExplainerFactory()
    rate(explainer, useful=2, not_useful=1)
    row = annotated(explainer, min_votes=3)
    assert row.useful_share == pytest.approx(2 / 3)


def test_counts_are_not_multiplied_by_joins():
    """Filtering across sources (a join) leaves the vote counts right."""
    explainer = ExplainerFactory()
    SourceFactory.create_batch(3, explainer=explainer)
    rate(explainer, useful=2, not_useful=1)
    row = (
        stats.with_feedback_stats(Explainer.objects.filter(sources__label__startswith="Wire"))
        .distinct()
        .get()
    )
    assert (row.votes, row.useful_votes) == (3, 2)


def test_since_counts_only_recent_votes():
    """With since, votes cast before it are not counted."""
    explainer = ExplainerFactory()
    rate(explainer, useful=4, days_ago=40)
    rate(explainer, useful=1, not_useful=1, days_ago=3)
    row = annotated(explainer, since=stats.period_start(30))
    assert (row.votes, row.useful_votes) == (2, 1)


def test_python_share_respects_the_minimum(settings):
    """The Python share is None below the minimum and never divides by zero."""
    settings.FEEDBACK_MIN_VOTES = 0
    assert stats.useful_share(0, 0) is None
    assert stats.useful_share(1, 2) == 0.5
    assert stats.useful_share(8, 9, min_votes=10) is None


def test_python_share_shows_from_exactly_the_minimum(settings):
    """At exactly FEEDBACK_MIN_VOTES votes the share shows; one vote fewer, "too few votes"."""
    settings.FEEDBACK_MIN_VOTES = 10
    assert stats.useful_share(7, 10) == 0.7
    assert stats.useful_share(7, 9) is None


def test_python_share_minimum_is_never_below_one_vote(settings):
    """A minimum of zero or less still needs one vote: the share of a single vote shows."""
    settings.FEEDBACK_MIN_VOTES = -5
    assert stats.useful_share(0, 0) is None
    assert stats.useful_share(1, 1) == 1.0
    assert stats.useful_share(0, 1, min_votes=0) == 0.0


def test_database_share_shows_from_exactly_the_minimum(settings):
    """The admin's share and lower bound show at exactly FEEDBACK_MIN_VOTES votes."""
    settings.FEEDBACK_MIN_VOTES = 10
    explainer = ExplainerFactory()
    rate(explainer, useful=8, not_useful=2)
    row = annotated(explainer)
    assert row.useful_share == pytest.approx(0.8)
    assert row.wilson_lower_bound == pytest.approx(0.4902, abs=5e-5)


def test_database_share_minimum_is_never_below_one_vote():
    """min_votes=0 is one vote: none gives no share (no division by 0), one gives its share."""
    row = annotated(ExplainerFactory(), min_votes=0)
    assert row.useful_share is None and row.wilson_lower_bound is None
    explainer = ExplainerFactory()
    rate(explainer, useful=1)
    assert annotated(explainer, min_votes=0).useful_share == 1.0


def test_format_percent_rounds_to_a_whole_percentage():
    """A share reads rounded to a whole percentage: 0.995 is 100%, 0.004 is 0%."""
    assert stats.format_percent(0.995, 200) == "100%"
    assert stats.format_percent(0.004, 250) == "0%"


def test_format_percent_words_each_case():
    """A share reads as a percentage, "too few votes", or nothing when nobody voted."""
    assert stats.format_percent(0.4902, 10) == "49%"
    assert stats.format_percent(None, 4) == "too few votes"
    assert stats.format_percent(None, 0) is None


def test_ranking_puts_best_lower_bound_first_and_too_few_last():
    """The ranking orders by lower bound, explainers with too few votes last, unrated left out."""
    small = ExplainerFactory(headline="Small and perfect")
    rate(small, useful=3)
    good = ExplainerFactory(headline="Many votes, mostly useful")
    rate(good, useful=80, not_useful=20)
    fair = ExplainerFactory(headline="Ten votes, mostly useful")
    rate(fair, useful=8, not_useful=2)
    ExplainerFactory(headline="Nobody voted")
    assert list(stats.ranking()) == [good, fair, small]


def test_ranking_includes_an_explainer_with_a_single_vote():
    """One vote is enough to be in the ranking (with too few votes for a share)."""
    single = ExplainerFactory(headline="One vote")
    rate(single, useful=1)
    assert list(stats.ranking()) == [single]


def test_nulls_last_ordering_in_both_directions():
    """NullsLast keeps explainers without a lower bound last, ascending or descending."""
    high, low, none = ExplainerFactory(), ExplainerFactory(), ExplainerFactory()
    rate(high, useful=10)
    rate(low, not_useful=10)
    rate(none, useful=1)
    queryset = stats.with_feedback_stats(Explainer.objects.all())
    field = stats.NullsLast("wilson_lower_bound")
    assert list(queryset.order_by(field.asc())) == [low, high, none]
    assert list(queryset.order_by(field.desc())) == [high, low, none]


def test_reason_breakdown_lists_every_reason_in_order():
    """Every reason appears in the form's order with its count and share of the no votes."""
    explainer = ExplainerFactory()
    rate(explainer, useful=5, not_useful=3, reason=Reason.OUT_OF_DATE)
    rate(explainer, not_useful=1, reason=Reason.TOO_LONG)
    rate(explainer, not_useful=1, reason="")
    rows = stats.reason_breakdown()
    assert [row.value for row in rows] == [*Reason.values, ""]
    counts = {row.value: (row.count, row.percent) for row in rows}
    assert counts[Reason.OUT_OF_DATE] == (3, 60)
    assert counts[Reason.TOO_LONG] == (1, 20)
    assert counts[""] == (1, 20)
    assert counts[Reason.INACCURATE] == (0, 0)


def test_reason_breakdown_for_one_explainer():
    """For one explainer only its own no votes are counted."""
    mine, other = ExplainerFactory(), ExplainerFactory()
    rate(mine, not_useful=2, reason=Reason.INACCURATE)
    rate(other, not_useful=5, reason=Reason.INACCURATE)
    counts = {row.value: row.count for row in stats.reason_breakdown(explainer=mine)}
    assert counts[Reason.INACCURATE] == 2


def test_reason_breakdown_without_no_votes_has_no_shares():
    """With no "no" votes every reason counts zero and has no share."""
    rate(ExplainerFactory(), useful=3)
    rows = stats.reason_breakdown()
    assert all(row.count == 0 and row.share is None for row in rows)


def test_daily_votes_fill_every_day_with_zeros():
    """Each of the last N days appears, oldest first; days without votes count zero."""
    explainer = ExplainerFactory()
    rate(explainer, useful=3, not_useful=1, days_ago=2)
    rate(explainer, useful=1, days_ago=29)
    rate(explainer, useful=7, days_ago=31)
    series = stats.daily_votes(days=30)
    today = timezone.localdate()
    assert len(series) == 30
    assert series[0].date == today - datetime.timedelta(days=29)
    assert series[-1].date == today
    by_date = {day.date: day for day in series}
    assert by_date[today - datetime.timedelta(days=2)].votes == 4
    assert by_date[today - datetime.timedelta(days=2)].share == 0.75
    assert by_date[today - datetime.timedelta(days=29)].votes == 1
    assert sum(day.votes for day in series) == 5
    assert by_date[today - datetime.timedelta(days=1)].share is None


def test_daily_votes_for_one_explainer():
    """For one explainer the daily counts leave other explainers out."""
    mine, other = ExplainerFactory(), ExplainerFactory()
    rate(mine, useful=2, days_ago=1)
    rate(other, useful=5, days_ago=1)
    assert sum(day.votes for day in stats.daily_votes(days=30, explainer=mine)) == 2


def test_daily_votes_follow_the_current_time_zone(settings):
    """A vote late in the evening local time counts on that local day, not the UTC one."""
    settings.TIME_ZONE = "America/New_York"
    explainer = ExplainerFactory()
    (rating,) = rate(explainer, useful=1)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    late = timezone.make_aware(datetime.datetime.combine(yesterday, datetime.time(23, 30)))
    type(rating).objects.filter(pk=rating.pk).update(created_at=late)
    series = stats.daily_votes(days=30)
    assert series[-2].date == yesterday and series[-2].votes == 1


def test_version_changes_in_the_window():
    """Each version after the first is marked on the day it was first saved, if recent."""
    explainer = ExplainerFactory()
    edit(explainer, "Second text.", days_ago=60)
    edit(explainer, "Third text.", days_ago=10)
    edit(explainer, "Fourth text.", days_ago=2)
    changes = stats.version_changes(explainer, since=stats.period_start(30))
    today = timezone.localdate()
    assert [(c.version, c.date) for c in changes] == [
        (3, today - datetime.timedelta(days=10)),
        (4, today - datetime.timedelta(days=2)),
    ]


def test_version_change_uses_the_first_record_of_the_version():
    """A later save that keeps the version (a status change) does not move the marker."""
    explainer = ExplainerFactory()
    edit(explainer, "Second text.", days_ago=45)
    explainer.status = Explainer.Status.UNPUBLISHED
    explainer.save()
    assert explainer.version == 2
    assert stats.version_changes(explainer, since=stats.period_start(30)) == []


EXPLAINERS = "/admin/explainers/explainer/"


def test_explainer_changelist_shows_votes_share_and_lower_bound(admin_client, settings):
    """The explainer list shows votes, the useful share and its lower bound, or "too few"."""
    settings.FEEDBACK_MIN_VOTES = 10
    rated = ExplainerFactory(headline="Rated")
    rate(rated, useful=8, not_useful=2)
    rate(ExplainerFactory(headline="Barely"), useful=2)
    ExplainerFactory(headline="Unrated")
    response = admin_client.get(EXPLAINERS)
    rows = {e.headline: e for e in response.context["cl"].result_list}
    assert (rows["Rated"].votes, rows["Rated"].useful_votes) == (10, 8)
    html = response.text
    assert '<td class="field-feedback_share">80%</td>' in html
    assert '<td class="field-feedback_lower_bound">49%</td>' in html
    assert html.count("too few votes") == 2


def test_explainer_changelist_sorts_by_lower_bound_with_too_few_last(admin_client):
    """Sorting by the lower bound either way keeps explainers with too few votes last."""
    many, perfect, low, few = (ExplainerFactory() for _ in range(4))
    rate(many, useful=95, not_useful=5)  # 95%, lower bound 89%
    rate(perfect, useful=10)  # 100%, lower bound 72%
    rate(low, not_useful=10)
    rate(few, useful=1)
    column = admin_client.get(EXPLAINERS).context["cl"].list_display.index("feedback_lower_bound")
    ascending = admin_client.get(EXPLAINERS, {"o": str(column)}).context["cl"].result_list
    descending = admin_client.get(EXPLAINERS, {"o": f"-{column}"}).context["cl"].result_list
    assert list(ascending) == [low, perfect, many, few]
    assert list(descending) == [many, perfect, low, few]


def test_explainer_changelist_sorts_by_votes(admin_client):
    """The votes column sorts by the number of votes."""
    many, some = ExplainerFactory(), ExplainerFactory()
    rate(many, useful=5)
    rate(some, useful=2)
    column = admin_client.get(EXPLAINERS).context["cl"].list_display.index("feedback_votes")
    result = admin_client.get(EXPLAINERS, {"o": f"-{column}"}).context["cl"].result_list
    assert list(result) == [many, some]


def test_explainer_changelist_search_and_filter_keep_counts(admin_client):
    """Searching and filtering the explainer list keeps each row's vote counts right."""
    hit = ExplainerFactory(whats_next="A summit in Geneva.", ai_generated=True)
    SourceFactory.create_batch(2, explainer=hit)
    rate(hit, useful=3, not_useful=1)
    rate(ExplainerFactory(), useful=7)
    response = admin_client.get(EXPLAINERS, {"q": "Geneva", "ai_generated__exact": "1"})
    (row,) = response.context["cl"].result_list
    assert (row.pk, row.votes, row.useful_votes) == (hit.pk, 4, 3)


def test_explainer_changelist_query_count_does_not_grow(
    admin_client, django_assert_max_num_queries
):
    """The feedback columns add no query per row."""
    for n in range(20):
        rate(ExplainerFactory(), useful=n, not_useful=1)
    with django_assert_max_num_queries(10):
        response = admin_client.get(EXPLAINERS)
    assert len(response.context["cl"].result_list) == 20


def test_explainer_changelist_bulk_delete_still_works(admin_client):
    """The annotated queryset still deletes unrated explainers in bulk."""
    doomed, kept = ExplainerFactory(), ExplainerFactory()
    admin_client.post(
        EXPLAINERS, {"action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes"}
    )
    assert list(Explainer.objects.all()) == [kept]


def test_explainer_with_ratings_cannot_be_deleted_in_the_admin(admin_client):
    """Ratings are never deleted from the admin, so neither is an explainer that has some."""
    rated = ExplainerFactory()
    rate(rated, useful=2)
    url = f"{EXPLAINERS}{rated.pk}/delete/"
    response = admin_client.get(url)
    assert response.context["perms_lacking"] == {"rating"}
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Explainer.objects.filter(pk=rated.pk).exists()
