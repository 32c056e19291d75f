import re

import pytest
from django.urls import reverse

from feedback.models import Reason
from tests.factories import ExplainerFactory, TopicFactory
from tests.feedback.rating_factories import edit, rate

pytestmark = pytest.mark.django_db

REPORT = reverse("admin:feedback_rating_report")


def test_report_url_is_under_ratings():
    """The report lives at admin/feedback/rating/report/."""
    assert REPORT == "/admin/feedback/rating/report/"


def test_report_ranks_explainers_by_lower_bound(admin_client):
    """Explainers are listed best lower bound first with votes, useful, not useful and share."""
    fair = ExplainerFactory(headline="Eight of ten")
    rate(fair, useful=8, not_useful=2, days_ago=1)
    good = ExplainerFactory(headline="Eighty of a hundred")
    rate(good, useful=80, not_useful=20, days_ago=2)
    response = admin_client.get(REPORT)
    assert response.status_code == 200
    rows = response.context["ranking"]
    assert [row.explainer for row in rows] == [good, fair]
    assert (rows[0].votes, rows[0].useful, rows[0].not_useful) == (100, 80, 20)
    assert (rows[0].share, rows[0].lower_bound) == ("80%", "71%")
    assert (rows[1].share, rows[1].lower_bound) == ("80%", "49%")
    assert response.text.index("Eighty of a hundred") < response.text.index("Eight of ten")


def test_report_says_too_few_votes(admin_client, settings):
    """Below the minimum number of votes the report shows no percentage."""
    settings.FEEDBACK_MIN_VOTES = 10
    rate(ExplainerFactory(headline="Barely rated"), useful=3)
    response = admin_client.get(REPORT)
    (row,) = response.context["ranking"]
    assert row.share == row.lower_bound == "too few votes"
    assert "too few votes" in response.text


def test_report_counts_only_the_period(admin_client):
    """Votes older than the chosen period are left out of the ranking and the chart."""
    explainer = ExplainerFactory()
    rate(explainer, useful=2, days_ago=5)
    rate(explainer, useful=3, days_ago=60)
    response = admin_client.get(REPORT)
    assert response.context["ranking"][0].votes == 2
    assert response.context["votes"] == 2
    response = admin_client.get(REPORT, {"days": "90"})
    assert response.context["ranking"][0].votes == 5


def test_report_reason_breakdown(admin_client):
    """The reasons readers gave are counted for all explainers."""
    rate(ExplainerFactory(), not_useful=3, reason=Reason.HARD_TO_UNDERSTAND)
    rate(ExplainerFactory(), not_useful=1, reason=Reason.OUT_OF_DATE)
    response = admin_client.get(REPORT)
    counts = {row.label: row.count for row in response.context["reasons"]}
    assert counts["It was hard to understand"] == 3
    assert counts["It is out of date"] == 1
    assert "It was hard to understand" in response.text


def test_report_chart_is_accessible_inline_svg(admin_client, published_explainer):
    """The chart is inline SVG with a title, a description and a label on every bar."""
    rate(published_explainer, useful=4, not_useful=1, days_ago=3)
    html = admin_client.get(REPORT).text
    assert '<svg class="fb-chart fb-chart-wide"' in html
    assert 'role="img" aria-labelledby="fb-chart-title-wide fb-chart-desc-wide"' in html
    assert '<title id="fb-chart-title-wide">Daily votes and useful share' in html
    assert "5 votes, 80% found it useful</title>" in html
    # 30 days in each of the two layouts, and the legend's swatch.
    assert html.count('<rect class="fb-bar"') == 2 * 30 + 1
    assert "<script" not in html.split('<div id="content-main">')[1]


def test_report_chart_has_axes_and_share_line(admin_client, published_explainer):
    """The chart labels both axes and draws the share as a line from 0 to 100%."""
    rate(published_explainer, useful=1, not_useful=1, days_ago=3)
    rate(published_explainer, useful=4, days_ago=1)
    response = admin_client.get(REPORT)
    chart = response.context["chart"]
    assert [tick.label for tick in chart.share_ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert chart.vote_ticks[0].label == "0" and int(chart.vote_ticks[-1].label) >= 4
    assert len(chart.points) == 2
    assert chart.points[0].y > chart.points[1].y  # 50% is drawn below 100%
    assert f'd="{chart.line}"' in response.text
    assert len(chart.date_ticks) == 6


def test_report_defaults_to_thirty_days(admin_client):
    """Without a period the chart covers the last 30 days."""
    response = admin_client.get(REPORT)
    assert response.context["days"] == 30
    assert len(response.context["series"]) == 30


def test_report_ninety_days(admin_client):
    """?days=90 covers the last 90 days."""
    response = admin_client.get(REPORT, {"days": "90"})
    assert response.context["days"] == 90
    assert len(response.context["chart"].bars) == 90


@pytest.mark.parametrize("days", ["7", "abc", "-30", "30.0", "9" * 30, "３０"])
def test_report_bad_period_falls_back_with_a_message(admin_client, days):
    """A period the report does not offer shows the last 30 days and says so."""
    response = admin_client.get(REPORT, {"days": days})
    assert response.status_code == 200
    assert response.context["days"] == 30
    assert "showing the last 30 days" in response.text


def test_report_empty_period_is_not_a_message(admin_client):
    """An empty ?days= is the default, with no warning."""
    response = admin_client.get(REPORT, {"days": ""})
    assert response.status_code == 200
    assert "showing the last" not in response.text


def test_report_days_without_votes_are_zero(admin_client, published_explainer):
    """Days without votes appear in the chart as zero-height bars."""
    rate(published_explainer, useful=2, days_ago=10)
    response = admin_client.get(REPORT)
    series = response.context["series"]
    assert [day.votes for day in series].count(0) == 29
    heights = [bar.height for bar in response.context["chart"].bars]
    assert heights.count(0) == 29 and max(heights) > 0


def test_report_for_one_explainer(admin_client):
    """?explainer=<id> limits the chart and the reasons to that explainer."""
    mine = ExplainerFactory(headline="Mine")
    other = ExplainerFactory(headline="Other")
    rate(mine, useful=1, not_useful=2, reason=Reason.TOO_LONG, days_ago=1)
    rate(other, useful=9, not_useful=4, reason=Reason.TOO_LONG, days_ago=1)
    response = admin_client.get(REPORT, {"explainer": mine.pk})
    assert response.status_code == 200
    assert response.context["explainer"] == mine
    assert response.context["votes"] == 3
    counts = {row.value: row.count for row in response.context["reasons"]}
    assert counts[Reason.TOO_LONG] == 2
    assert "Feedback report: Mine" in response.text
    assert re.search(
        r'<tr class="fb-selected">\s*<td class="num" data-label="#">\d+</td>\s*<th', response.text
    )


@pytest.mark.parametrize("explainer", ["999999", "abc", "-1", "1.5", "9" * 40])
def test_report_unknown_explainer_is_404(admin_client, explainer):
    """An explainer id that does not exist, or is not a number, answers 404."""
    assert admin_client.get(REPORT, {"explainer": explainer}).status_code == 404


def test_report_marks_new_versions_for_one_explainer(admin_client):
    """The explainer's chart marks the day each version in the period was first saved."""
    explainer = ExplainerFactory()
    edit(explainer, "Second text.", days_ago=50)
    edit(explainer, "Third text.", days_ago=12)
    rate(explainer, useful=3, days_ago=11)
    response = admin_client.get(REPORT, {"explainer": explainer.pk})
    markers = response.context["chart"].markers
    assert [m.label for m in markers] == ["v3"]
    assert ">v3</text>" in response.text
    assert "Version 3 first saved on" in response.text
    response = admin_client.get(REPORT, {"explainer": explainer.pk, "days": "90"})
    assert [m.label for m in response.context["chart"].markers] == ["v2", "v3"]


def test_overall_report_marks_no_versions(admin_client):
    """The chart for all explainers marks no version changes."""
    explainer = ExplainerFactory()
    edit(explainer, "Second text.", days_ago=3)
    response = admin_client.get(REPORT)
    assert response.context["chart"].markers == []
    assert 'class="fb-version"' not in response.text


def test_report_escapes_headlines(admin_client):
    """A headline with markup is shown as text, never as HTML."""
    explainer = ExplainerFactory(headline="<script>alert(1)</script> Talks")
    rate(explainer, useful=1)
    html = admin_client.get(REPORT, {"explainer": explainer.pk}).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Talks" in html


def test_report_query_count_does_not_grow_with_explainers(
    admin_client, django_assert_max_num_queries
):
    """The report runs a fixed number of queries however many explainers were rated."""
    topic = TopicFactory()
    for n in range(25):
        rate(ExplainerFactory(topic=topic), useful=n % 7, not_useful=2, days_ago=n)
    with django_assert_max_num_queries(8):
        response = admin_client.get(REPORT, {"days": "90"})
    assert len(response.context["ranking"]) == 25


def test_report_for_one_explainer_query_count(
    admin_client, django_assert_max_num_queries, published_explainer
):
    """The report for one explainer adds only its lookup and its version history."""
    rate(published_explainer, useful=3, not_useful=1, days_ago=2)
    with django_assert_max_num_queries(10):
        admin_client.get(REPORT, {"explainer": published_explainer.pk})


def test_report_without_votes(admin_client):
    """With no votes at all the report still renders, saying there were none."""
    response = admin_client.get(REPORT)
    assert response.status_code == 200
    assert "No votes in the last 30 days." in response.text
    assert ">No votes in these days</text>" in response.text
    assert response.context["share"] is None
