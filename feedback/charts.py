"""Geometry of the feedback report's SVG chart, worked out in Python so templates only draw.

Everything here is plain arithmetic on a day-by-day series (``stats.daily_votes``) and the
days new versions appeared (``stats.version_changes``); nothing touches the database.
"""

import math
from dataclasses import dataclass

from django.utils import formats
from django.utils.dateformat import format as date_format
from django.utils.translation import ngettext

from .stats import Day, VersionChange


@dataclass(frozen=True)
class Tick:
    """An axis label at (x, y)."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    """One day's votes: a rectangle from its top-left corner, titled for screen readers."""

    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Point:
    """One day's useful share on the line."""

    x: float
    y: float


@dataclass(frozen=True)
class Marker:
    """A dashed line where a new version of the text first appeared."""

    x: float
    label: str
    title: str


def _nice_step(maximum: int, intervals: int = 4) -> int:
    """A round whole step (1, 2 or 5 × 10ⁿ) that covers ``maximum`` in about ``intervals``."""
    raw = max(maximum, 1) / intervals
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    return next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= raw)


@dataclass(frozen=True)
class DailyChart:
    """Where everything goes in the report's SVG chart: bars for the daily votes (left
    axis), a line for the daily useful share (right axis, 0–100%), new versions marked.

    Coordinates are in the SVG's own units; the template only draws them. The SVG scales to
    its container, labels with it: this layout is for a laptop's width, ``NarrowChart`` for
    a phone's, so the labels stay near their CSS size on both.
    """

    WIDTH = 760
    HEIGHT = 262
    LEFT = 52
    RIGHT = 708
    TOP = 36
    BOTTOM = 236
    CENTRE_X = (LEFT + RIGHT) / 2
    CENTRE_Y = (TOP + BOTTOM) / 2
    # A date under every nth bar: for a month of days, and for longer periods.
    DATE_EVERY = (5, 15)

    bars: list[Bar]
    points: list[Point]
    vote_ticks: list[Tick]
    share_ticks: list[Tick]
    date_ticks: list[Tick]
    markers: list[Marker]
    total: int
    title: str
    description: str

    @property
    def line(self) -> str:
        """SVG path data joining the days that had votes."""
        return " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(self.points))

    @classmethod
    def build(cls, series: list[Day], changes: list[VersionChange]) -> "DailyChart":
        height = cls.BOTTOM - cls.TOP
        slot = (cls.RIGHT - cls.LEFT) / len(series)
        step = _nice_step(max(day.votes for day in series))
        top_votes = step * max(math.ceil(max(day.votes for day in series) / step), 1)

        def centre(index: int) -> float:
            return round(cls.LEFT + slot * (index + 0.5), 1)

        def votes_y(votes: int) -> float:
            return round(cls.BOTTOM - height * votes / top_votes, 1)

        def share_y(share: float) -> float:
            return round(cls.BOTTOM - height * share, 1)

        bar_width = round(max(slot * 0.7, 1.0), 1)
        bars, points = [], []
        for index, day in enumerate(series):
            label = (
                formats.date_format(day.date, "DATE_FORMAT")
                + ": "
                + ngettext("%d vote", "%d votes", day.votes) % day.votes
            )
            if day.share is not None:
                label += f", {day.share:.0%} found it useful"
                points.append(Point(centre(index), share_y(day.share)))
            bar_top = votes_y(day.votes)
            bars.append(
                Bar(
                    round(centre(index) - bar_width / 2, 1),
                    bar_top,
                    bar_width,
                    round(cls.BOTTOM - bar_top, 1),
                    label,
                )
            )
        label_every = cls.DATE_EVERY[0] if len(series) <= 31 else cls.DATE_EVERY[1]
        index_of = {day.date: index for index, day in enumerate(series)}
        first, last = series[0].date, series[-1].date
        total = sum(day.votes for day in series)
        return cls(
            bars=bars,
            points=points,
            vote_ticks=[
                Tick(cls.LEFT - 8, votes_y(v), str(v)) for v in range(0, top_votes + 1, step)
            ],
            share_ticks=[
                Tick(cls.RIGHT + 8, share_y(s / 100), f"{s}%") for s in (0, 25, 50, 75, 100)
            ],
            date_ticks=[
                Tick(centre(i), cls.BOTTOM + 18, date_format(day.date, "j M"))
                for i, day in enumerate(series)
                if (len(series) - 1 - i) % label_every == 0
            ],
            markers=[
                Marker(
                    centre(index_of[change.date]),
                    f"v{change.version}",
                    f"Version {change.version} first saved on "
                    + formats.date_format(change.date, "DATE_FORMAT"),
                )
                for change in changes
                if change.date in index_of
            ],
            total=total,
            title=f"Daily votes and useful share, {date_format(first, 'j M')} to "
            f"{date_format(last, 'j M Y')}",
            description="Bars: votes per day (left axis). Line: share of that day's voters "
            "who found it useful (right axis, 0 to 100%). Dashed lines: a new version of the "
            "text. " + ngettext("%d vote in all.", "%d votes in all.", total) % total,
        )


class NarrowChart(DailyChart):
    """The same chart drawn for a phone: about as many units wide as the screen has pixels,
    so an 11 px label is still about 11 px, with fewer dates under the bars."""

    WIDTH = 320
    HEIGHT = 230
    LEFT = 34
    RIGHT = 282
    TOP = 34
    BOTTOM = 204
    CENTRE_X = (LEFT + RIGHT) / 2
    CENTRE_Y = (TOP + BOTTOM) / 2
    DATE_EVERY = (10, 30)
