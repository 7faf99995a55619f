"""Which local dates a history chart spans for an anchor date, and the anchors of the charts before and after it."""

from datetime import date, timedelta
from typing import NamedTuple

WEEKS = 12  # weeks on the week chart
YEARS = 5  # years on the year chart


class Window(NamedTuple):
    """A chart's local dates [start, end), and where the arrows lead."""

    start: date
    end: date
    previous: date
    next: date


def add_months(day: date, months: int) -> date:
    """The first of the month months after day's month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def window(level: str, anchor: date) -> Window:
    """hour: the hours of a day; day: the days of a month; week: twelve ISO weeks; month: a year's months;
    year: five years."""
    if level == "hour":
        return Window(anchor, anchor + timedelta(days=1), anchor - timedelta(days=1), anchor + timedelta(days=1))
    if level == "day":
        first = anchor.replace(day=1)
        return Window(first, add_months(first, 1), add_months(first, -1), add_months(first, 1))
    if level == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        return Window(monday - timedelta(weeks=WEEKS - 1), monday + timedelta(weeks=1),
                      anchor - timedelta(weeks=WEEKS), anchor + timedelta(weeks=WEEKS))
    if level == "month":
        return Window(date(anchor.year, 1, 1), date(anchor.year + 1, 1, 1), date(anchor.year - 1, 1, 1),
                      date(anchor.year + 1, 1, 1))
    return Window(date(anchor.year - YEARS + 1, 1, 1), date(anchor.year + 1, 1, 1), date(anchor.year - YEARS, 1, 1),
                  date(anchor.year + YEARS, 1, 1))
