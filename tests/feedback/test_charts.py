import datetime

import pytest

from feedback.charts import DailyChart, NarrowChart, Tick, _nice_step
from feedback.stats import Day, VersionChange

LAST_DAY = datetime.date(2026, 11, 26)  # a Thursday


def series(*votes: tuple[int, int], last: datetime.date = LAST_DAY) -> list[Day]:
    """Days ending on ``last``, one per (votes, useful) pair, oldest first."""
    first = last - datetime.timedelta(days=len(votes) - 1)
    return [
        Day(first + datetime.timedelta(days=offset), total, useful)
        for offset, (total, useful) in enumerate(votes)
    ]


def quiet_days(days: int) -> list[Day]:
    return series(*[(0, 0)] * days)


@pytest.mark.parametrize(
    ("maximum", "step"),
    [(0, 1), (1, 1), (4, 1), (7, 2), (10, 5), (40, 10), (41, 20), (100, 50), (1234, 500)],
)
def test_nice_step_is_a_round_number_covering_the_maximum_in_about_four(maximum, step):
    """The vote axis steps by 1, 2 or 5 × 10ⁿ, about four steps up to the busiest day."""
    assert _nice_step(maximum) == step


def test_one_bar_per_day_inside_the_plot():
    """Every day gets a bar, left to right, within the plot's edges and on its baseline."""
    chart = DailyChart.build(series(*[(3, 2)] * 30), [])
    assert len(chart.bars) == 30
    assert chart.bars == sorted(chart.bars, key=lambda bar: bar.x)
    for bar in chart.bars:
        assert bar.x >= DailyChart.LEFT and bar.x + bar.width <= DailyChart.RIGHT
        assert bar.y + bar.height == pytest.approx(DailyChart.BOTTOM)


def test_busiest_day_reaches_the_top_vote_tick():
    """The tallest bar ends at the highest vote tick, which is a whole number of steps."""
    chart = DailyChart.build(series((2, 1), (8, 4), (5, 5)), [])
    assert [tick.label for tick in chart.vote_ticks] == ["0", "2", "4", "6", "8"]
    top = min(bar.y for bar in chart.bars)
    assert top == chart.vote_ticks[-1].y == DailyChart.TOP
    assert chart.vote_ticks[0] == Tick(DailyChart.LEFT - 8, DailyChart.BOTTOM, "0")


def test_vote_axis_rounds_up_to_a_whole_step():
    """A busiest day between ticks leaves head room up to the next tick."""
    chart = DailyChart.build(series((7, 0)), [])
    assert [tick.label for tick in chart.vote_ticks] == ["0", "2", "4", "6", "8"]
    assert chart.bars[0].y > DailyChart.TOP


def test_share_axis_runs_from_zero_at_the_bottom_to_all_at_the_top():
    """The right axis is labelled 0% to 100%, 0% on the baseline and 100% at the top."""
    chart = DailyChart.build(quiet_days(30), [])
    assert [tick.label for tick in chart.share_ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert chart.share_ticks[0].y == DailyChart.BOTTOM
    assert chart.share_ticks[-1].y == DailyChart.TOP
    assert {tick.x for tick in chart.share_ticks} == {DailyChart.RIGHT + 8}


def test_line_joins_only_days_with_votes():
    """A day without votes has a flat bar and no point; the line skips it."""
    chart = DailyChart.build(series((4, 4), (0, 0), (4, 0)), [])
    assert chart.bars[1].height == 0
    assert len(chart.points) == 2
    (full, none) = chart.points
    assert (full.y, none.y) == (DailyChart.TOP, DailyChart.BOTTOM)
    assert chart.line == f"M{full.x},{full.y} L{none.x},{none.y}"


def test_line_is_empty_without_votes():
    """With no votes at all there is nothing to draw a line through."""
    chart = DailyChart.build(quiet_days(30), [])
    assert chart.points == [] and chart.line == ""
    assert chart.total == 0
    assert [tick.label for tick in chart.vote_ticks] == ["0", "1"]


def test_bar_titles_say_the_day_the_votes_and_the_share():
    """Each bar's title reads the date (DATE_FORMAT), the votes (singular or plural), the share."""
    chart = DailyChart.build(series((1, 1), (0, 0), (5, 4)), [])
    assert [bar.label for bar in chart.bars] == [
        "24 Nov 2026: 1 vote, 100% found it useful",
        "25 Nov 2026: 0 votes",
        "26 Nov 2026: 5 votes, 80% found it useful",
    ]


def test_thirty_days_label_every_fifth_date_ending_on_the_last():
    """A 30-day chart labels every fifth day, counting back from the last, under the axis."""
    chart = DailyChart.build(quiet_days(30), [])
    assert [tick.label for tick in chart.date_ticks] == [
        "1 Nov",
        "6 Nov",
        "11 Nov",
        "16 Nov",
        "21 Nov",
        "26 Nov",
    ]
    assert {tick.y for tick in chart.date_ticks} == {DailyChart.BOTTOM + 18}


def test_ninety_days_label_every_fifteenth_date():
    """A 90-day chart labels every fifteenth day, so the labels do not collide."""
    chart = DailyChart.build(quiet_days(90), [])
    assert len(chart.date_ticks) == 6
    assert chart.date_ticks[-1].label == "26 Nov"
    assert chart.date_ticks[-2].label == "11 Nov"


def test_markers_stand_on_the_day_a_version_appeared():
    """A new version is marked at its day's centre, titled with its number and date."""
    days = series(*[(1, 1)] * 30)
    chart = DailyChart.build(days, [VersionChange(2, datetime.date(2026, 11, 20))])
    index = [day.date for day in days].index(datetime.date(2026, 11, 20))
    bar = chart.bars[index]
    (marker,) = chart.markers
    assert marker.x == pytest.approx(bar.x + bar.width / 2, abs=0.1)
    assert (marker.label, marker.title) == ("v2", "Version 2 first saved on 20 Nov 2026")


def test_versions_outside_the_days_are_not_marked():
    """A version that appeared before the chart's first day gets no marker."""
    chart = DailyChart.build(quiet_days(30), [VersionChange(2, datetime.date(2026, 1, 1))])
    assert chart.markers == []


def test_title_and_description_name_the_period_and_the_total():
    """The chart's title gives the dates; its description explains it and counts the votes."""
    chart = DailyChart.build(series((1, 0), (2, 1)), [])
    assert chart.title == "Daily votes and useful share, 25 Nov to 26 Nov 2026"
    assert chart.total == 3
    assert chart.description.endswith("3 votes in all.")
    assert "Bars: votes per day (left axis)." in chart.description
    assert DailyChart.build(series((1, 1)), []).description.endswith("1 vote in all.")


@pytest.mark.parametrize("days", [30, 90])
def test_phone_layout_is_drawn_about_as_wide_as_a_phone(days):
    """The phone's chart is about 320 units wide, so its labels shrink little, with few dates."""
    chart = NarrowChart.build(quiet_days(days), [])
    assert chart.WIDTH <= 360 and len(chart.bars) == days
    assert len(chart.date_ticks) <= 4
    for bar in chart.bars:
        assert bar.x >= NarrowChart.LEFT and bar.x + bar.width <= NarrowChart.RIGHT
    for tick in chart.date_ticks:
        assert tick.y < chart.HEIGHT
