"""Which periods a history chart shows for an anchor date, and the anchors of the charts before and after it."""

from datetime import date, timedelta
from typing import NamedTuple


class Window(NamedTuple):
    """A chart's span of local time, its title, and where the arrows lead."""

    start: date
    end: date
    title: str
    previous: date
    next: date


def add_months(day: date, months: int) -> date:
    """The first of the month months after day's month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def window(level: str, anchor: date) -> Window:
    """hour: the hours of a day; day: the days of a month; week: twelve ISO weeks; month: a year's months."""
    if level == "hour":
        return Window(anchor, anchor + timedelta(days=1), anchor.isoformat(),
                      anchor - timedelta(days=1), anchor + timedelta(days=1))
    if level == "day":
        first = anchor.replace(day=1)
        return Window(first, add_months(first, 1), first.strftime("%B %Y"), add_months(first, -1),
                      add_months(first, 1))
    if level == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        start = monday - timedelta(weeks=11)
        return Window(start, monday + timedelta(weeks=1),
                      f"{start.isocalendar()[0]}-W{start.isocalendar()[1]:02d} to "
                      f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}",
                      anchor - timedelta(weeks=12), anchor + timedelta(weeks=12))
    first = date(anchor.year, 1, 1)
    return Window(first, date(anchor.year + 1, 1, 1), str(anchor.year), date(anchor.year - 1, 1, 1),
                  date(anchor.year + 1, 1, 1))
