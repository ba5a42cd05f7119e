"""Client records as pure functions of their index: nothing per client is stored.

Records are numbered in registration order: the first `initial` existed before the window
(the first full export), the rest register day by day through it. A record's location
comes from a fixed slot table (index mod SLOTS), so "a random client of location L
registered before day D" is O(1). About a third of the records are further records of
an earlier person (same phone or email, written differently) at another location, and
a few at the same one.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta
from typing import Any

from .hashing import h64, keyed_random, unit
from .names import full_name, translit
from .reference import Location
from .vocab import (
    EMAIL_DOMAINS,
    FEMALE_SPELLINGS,
    IMPORTANCE_SPELLINGS,
    MALE_SPELLINGS,
    UNKNOWN_SPELLINGS,
)

SLOTS = 128
P_SECONDARY = 0.33
P_SAME_LOCATION = 0.01  # of secondary records: a second record in the same location

_S_SECONDARY, _S_TARGET, _S_SAME, _S_PERSON, _S_RECORD, _S_FREQ, _S_REG = range(1, 8)

Row = tuple[Any, ...]


class Population:
    def __init__(
        self,
        seed: int,
        total: int,
        initial: int,
        start: date,
        stop: date,
        locations: list[Location],
    ) -> None:
        self.seed = seed
        self.total = total
        self.initial = initial
        self.start = start
        self.days = (stop - start).days
        self.locations = locations
        self._new = total - initial
        self.slot_location = _slot_table(seed, [x.weight for x in locations])
        self.location_slots: list[list[int]] = [[] for _ in locations]
        for slot, li in enumerate(self.slot_location):
            self.location_slots[li].append(slot)

    # ----- registration order -------------------------------------------------------
    def count_before(self, day: date) -> int:
        """Number of records registered before `day` (they are records 0..n-1)."""
        d = (day - self.start).days
        if d <= 0:
            return self.initial
        return min(self.total, self.initial + max(0, math.ceil(d * self._new / self.days - 0.5)))

    def registered_at(self, i: int) -> datetime:
        if i < self.initial:
            back = 1 + int(unit(self.seed, _S_REG, i) * 4 * 365)
            day = self.start - timedelta(days=back)
        else:
            day = self.start + timedelta(days=int((i - self.initial + 0.5) * self.days / self._new))
        minutes = 9 * 60 + int(unit(self.seed, _S_REG, i + (1 << 40)) * 12 * 60)
        return datetime.combine(day, time()) + timedelta(minutes=minutes)

    def location_of(self, i: int) -> Location:
        return self.locations[self.slot_location[i % SLOTS]]

    def client_id(self, i: int) -> str:
        return f"{self.locations[self.slot_location[i % SLOTS]].id}-{i:07d}"

    # ----- sampling -----------------------------------------------------------------
    def pick(self, rng: random.Random, loc: int, day: date) -> int | None:
        """A record of location `loc` registered before `day`; regulars come more often."""
        count = self.count_before(day)
        slots = self.location_slots[loc]
        for _ in range(4):
            s = slots[int(rng.random() * len(slots))]
            if count <= s:
                continue
            i = int(rng.random() * ((count - s - 1) // SLOTS + 1)) * SLOTS + s
            if unit(self.seed, _S_FREQ, i) < 0.3 and rng.random() < 0.7:
                continue  # an occasional client: usually someone else comes instead
            return i
        return None

    def pick_between(self, rng: random.Random, loc: int, lo: int, hi: int) -> int | None:
        """A record of location `loc` with index in [lo, hi) (e.g. registered recently)."""
        slots = self.location_slots[loc]
        for _ in range(6):
            if hi <= lo:
                return None
            i0 = lo + int(rng.random() * (hi - lo))
            i = i0 - i0 % SLOTS + slots[int(rng.random() * len(slots))]
            if lo <= i < hi:
                return i
        return None

    # ----- persons ------------------------------------------------------------------
    def _flag_secondary(self, i: int) -> bool:
        return i > 0 and unit(self.seed, _S_SECONDARY, i) < P_SECONDARY

    def primary(self, i: int) -> int:
        """The earlier record of the same person, or `i` itself."""
        if not self._flag_secondary(i):
            return i
        same = unit(self.seed, _S_SAME, i) < P_SAME_LOCATION
        here = self.slot_location[i % SLOTS]
        for attempt in range(8):
            j = h64(self.seed, _S_TARGET + attempt * 16, i) % i
            if self._flag_secondary(j):
                continue
            if (self.slot_location[j % SLOTS] == here) == same:
                return j
        return i

    # ----- the record as the location's CRM exports it ------------------------------
    def row(self, i: int) -> Row:
        """(client_id, location_id, name, phone, email, card_number, gender, importance,
        registered_at, balance, is_deleted, updated_at) as first exported."""
        q = self.primary(i)
        person = keyed_random(self.seed, _S_PERSON, q)
        female = person.random() < 0.72
        first, surname, middle = full_name(person, female)
        contact = person.random()
        has_phone = contact < 0.80
        # 80% have a phone (40% of them an email too), 12% only an email, 8% neither.
        has_email = (has_phone and person.random() < 0.4) or (not has_phone and contact < 0.92)
        digits = self._digits(q)
        mailbox = f"{translit(first)}.{translit(surname)}{q % 97}@{person.choice(EMAIL_DOMAINS)}"

        r = keyed_random(self.seed, _S_RECORD, i)
        phone = _phone_text(r, digits) if has_phone and r.random() < 0.93 else None
        email = None
        if has_email and r.random() < (0.95 if phone is None else 0.7):
            email = _email_text(r, mailbox)
        if r.random() < 0.12:
            gender = r.choice(UNKNOWN_SPELLINGS)
        else:
            gender = r.choice(FEMALE_SPELLINGS if female else MALE_SPELLINGS)
        level = r.choices(("none", "bronze", "silver", "gold"), (60, 20, 12, 8))[0]
        importance = r.choice(IMPORTANCE_SPELLINGS[level])
        card = None
        if r.random() < 0.55:
            card = f"2770{i:09d}"
            if r.random() < 0.2:  # printed with spaces
                card = f"{card[:4]} {card[4:8]} {card[8:]}"
        balance = None if r.random() < 0.3 else 0 if r.random() < 0.5 else r.randint(1, 2_000_000)
        registered = self.registered_at(i)
        updated = registered + timedelta(minutes=r.randint(0, 30), seconds=r.randint(0, 59))
        return (
            self.client_id(i),
            self.location_of(i).id,
            _name_text(r, first, surname, middle),
            phone,
            email,
            card or None,
            gender or None,
            importance or None,
            registered,
            balance,
            None,
            updated,
        )

    def _digits(self, q: int) -> str:
        # An affine bijection mod 10^9: distinct persons never share a number.
        return f"9{(q * 48271 + self.seed * 7919) % 1_000_000_000:09d}"


def _slot_table(seed: int, weights: list[float]) -> list[int]:
    """SLOTS slots shared out by weight (largest remainder), in a seeded order."""
    total = sum(weights)
    quotas = [w / total * SLOTS for w in weights]
    counts = [max(1, int(q)) for q in quotas]
    order = sorted(range(len(weights)), key=lambda k: int(quotas[k]) - quotas[k])
    k = 0
    while sum(counts) < SLOTS:
        counts[order[k % len(order)]] += 1
        k += 1
    while sum(counts) > SLOTS:
        biggest = max(range(len(counts)), key=lambda j: counts[j])
        counts[biggest] -= 1
    table = [li for li, c in enumerate(counts) for _ in range(c)]
    random.Random(seed).shuffle(table)
    return table


def _phone_text(r: random.Random, d: str) -> str:
    style = r.random()
    if style < 0.3:
        return f"+7 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}"
    if style < 0.55:
        return "8" + d
    if style < 0.72:
        return d
    if style < 0.85:
        return "+7" + d
    if style < 0.93:
        return f"8 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}"
    if style < 0.98:
        return f"+7-{d[:3]}-{d[3:6]}-{d[6:]}"
    return d[:5]  # a truncated number: not a valid identity key


def _email_text(r: random.Random, mailbox: str) -> str:
    style = r.random()
    if style < 0.6:
        return mailbox
    if style < 0.75:
        return mailbox.capitalize()
    if style < 0.85:
        return f" {mailbox} "
    if style < 0.97:
        return mailbox.upper()
    return mailbox.replace(".", "", 1).split("@")[0] + "@mail"  # no dot in the domain


def _name_text(r: random.Random, first: str, surname: str, middle: str) -> str | None:
    style = r.random()
    if style < 0.45:
        return f"{first} {surname}"
    if style < 0.7:
        return f"{surname} {first}"
    if style < 0.82:
        return f"{surname} {first} {middle}"
    if style < 0.88:
        return f"{first} {surname}".lower()
    if style < 0.93:
        return f"  {first}  "
    if style < 0.98:
        return f"{surname.upper()} {first[0]}."
    return None
