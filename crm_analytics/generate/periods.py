"""The time window and its split into extract periods (one landing file per period)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

FilePeriod = Literal["day", "week"]


@dataclass(frozen=True)
class Period:
    index: int
    first: date  # inclusive; also the file name
    stop: date  # exclusive

    @property
    def name(self) -> str:
        return self.first.isoformat()

    @property
    def start_dt(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day)

    @property
    def stop_dt(self) -> datetime:
        return datetime(self.stop.year, self.stop.month, self.stop.day)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=k) for k in range((self.stop - self.first).days)]


def window_start(end_date: date, months: int) -> date:
    """First day of a window of `months` calendar months that ends on `end_date` inclusive."""
    stop = end_date + timedelta(days=1)
    total = stop.year * 12 + (stop.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = stop.day
    while True:
        try:
            return date(year, month, day)
        except ValueError:  # 31st of a short month: clamp
            day -= 1


def split_periods(start: date, stop: date, file_period: FilePeriod) -> list[Period]:
    """Days, or ISO weeks (Monday first) clipped to the window; named by their first day."""
    if file_period not in ("day", "week"):
        raise ValueError(f"file_period must be 'day' or 'week', not {file_period!r}")
    periods: list[Period] = []
    first = start
    while first < stop:
        if file_period == "day":
            nxt = first + timedelta(days=1)
        else:
            nxt = first + timedelta(days=7 - first.weekday())
        nxt = min(nxt, stop)
        periods.append(Period(len(periods), first, nxt))
        first = nxt
    return periods
