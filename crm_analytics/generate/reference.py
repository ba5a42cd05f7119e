"""Reference data held in memory (small: tens of locations, hundreds of staff and codes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .vocab import ADMIN_POSITION
from .writers import Format

Row = tuple[Any, ...]


@dataclass
class Specialist:
    id: str
    location_id: str
    name: str
    position: str
    is_associate: bool
    hired: date | None = None  # works from this day; None = before the window
    left: date | None = None  # no longer works from this day
    bookable: bool = True  # a mistaken duplicate entry is never booked

    def active(self, day: date) -> bool:
        return (
            self.bookable
            and (self.hired is None or day >= self.hired)
            and (self.left is None or day < self.left)
        )


@dataclass
class Promotion:
    id: str
    location_id: str
    name: str
    type: str
    starts_on: date | None
    ends_on: date | None

    def active(self, day: date) -> bool:
        return (self.starts_on is None or day >= self.starts_on) and (
            self.ends_on is None or day <= self.ends_on
        )


@dataclass
class PromoCode:
    id: str
    code: str
    campaign: str
    location: int  # index into World.locations
    bonus: int  # kopecks
    activation_limit: int | None
    account_limit: int | None
    first_topup_only: bool
    planned: int | None
    starts_at: datetime
    ends_at: datetime | None
    weight: float
    leak: bool = False
    activations: int = 0
    # Per-client counts enforce account_limit; capped so a huge run stays bounded.
    per_client: dict[int, int] = field(default_factory=dict)

    def valid(self, when: datetime) -> bool:
        return when >= self.starts_at and (self.ends_at is None or when < self.ends_at)

    def exhausted(self) -> bool:
        return self.activation_limit is not None and self.activations >= self.activation_limit


@dataclass
class Location:
    index: int
    id: str
    name: str
    group: str
    city: str
    timezone: str
    off: int  # UTC offset, minutes
    weight: float
    specialists: list[Specialist] = field(default_factory=list)
    promotions: list[Promotion] = field(default_factory=list)
    _staff_day: date | None = field(default=None, repr=False)
    _staff: tuple[list[Specialist], list[Specialist]] = field(default=([], []), repr=False)

    def service_staff(self, day: date) -> list[Specialist]:
        return self._staff_on(day)[0]

    def associates(self, day: date) -> list[Specialist]:
        return self._staff_on(day)[1]

    def _staff_on(self, day: date) -> tuple[list[Specialist], list[Specialist]]:
        # Asked for every visit and purchase; staff only change on a few days.
        if self._staff_day != day:
            active = [s for s in self.specialists if s.active(day)]
            self._staff = (
                [
                    s
                    for s in active
                    if not s.is_associate and s.bookable and s.position != ADMIN_POSITION
                ],
                [s for s in active if s.is_associate],
            )
            self._staff_day = day
        return self._staff

    def promotions_on(self, day: date) -> list[Promotion]:
        return [p for p in self.promotions if p.active(day)]


@dataclass
class ReferenceFile:
    """An initial or change extract of a reference entity, landed on `due`."""

    entity: str
    due: date
    fmt: Format
    rows: list[tuple[Row, int]]  # (row in contract order, UTC offset minutes)
    initial: bool = False

    @property
    def name(self) -> str:
        return f"{self.due.isoformat()}.{self.fmt}"


@dataclass
class World:
    locations: list[Location]
    codes: list[PromoCode]
    leak_code: PromoCode
    leak_from: date  # the day the leaked code starts being passed around
    files: list[ReferenceFile]
