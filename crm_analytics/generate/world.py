"""Builds the chain: locations, staff, promotions, promo codes, and their extract files.

Changes made during the window (hires, departures, seasonal promotions, new codes, a
renamed store, a fixed time zone) are applied to the in-memory objects up front and
also written as change files landed on the day they happen.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from .names import full_name
from .plan import Volumes
from .reference import Location, PromoCode, Promotion, ReferenceFile, Row, Specialist, World
from .vocab import (
    ADMIN_POSITION,
    ASSOCIATE_POSITION,
    BRAND,
    CITIES,
    CODE_CAMPAIGNS,
    PROMOTION_TEMPLATES,
    SEASONAL_PROMOTIONS,
    SERVICE_POSITIONS,
    STREETS,
)


class _Window:
    def __init__(self, start: date, stop: date) -> None:
        self.start, self.stop = start, stop
        self.days = (stop - start).days

    def at(self, fraction: float) -> date:
        return self.start + timedelta(days=int(self.days * fraction))


def _utc(day: date, hour: int = 6) -> datetime:
    return datetime.combine(day, time(hour))


def _location_row(
    loc: Location,
    updated: datetime,
    *,
    timezone: str | None = None,
    name: str | None = None,
    deleted: bool | None = None,
) -> tuple[Row, int]:
    tz = loc.timezone if timezone is None else timezone
    return (loc.id, name or loc.name, loc.group, loc.city, tz or None, deleted, updated), 0


def _specialist_row(
    s: Specialist, updated: datetime, off: int, deleted: bool | None = None
) -> tuple[Row, int]:
    return (s.id, s.location_id, s.name, s.position, deleted, updated), off


def _promotion_row(p: Promotion, updated: datetime, off: int) -> tuple[Row, int]:
    return (p.id, p.location_id, p.name, p.type, p.starts_on, p.ends_on, None, updated), off


def _code_row(
    c: PromoCode, loc: Location, updated: datetime, deleted: bool | None = None
) -> tuple[Row, int]:
    return (
        c.id,
        c.code,
        c.campaign,
        loc.id,
        c.bonus,
        c.activation_limit,
        c.account_limit,
        c.first_topup_only,
        c.planned,
        c.starts_at,
        c.ends_at,
        deleted,
        updated,
    ), loc.off


def _locations(rng: random.Random, n: int) -> list[Location]:
    per_city: dict[str, int] = {}
    out: list[Location] = []
    for k in range(n):
        code, city, tz, hours, group = CITIES[k % len(CITIES)]
        per_city[code] = per_city.get(code, 0) + 1
        streets = STREETS[code]
        n = per_city[code] - 1
        street = streets[n % len(streets)]
        suffix = f" {n // len(streets) + 1}" if n >= len(streets) else ""
        out.append(
            Location(
                index=k,
                id=f"{code}{per_city[code]:02d}",
                name=f"{BRAND} {street}{suffix}",
                group=group,
                city=city,
                timezone=tz,
                off=hours * 60,
                weight=round(rng.uniform(0.6, 1.6), 3),
            )
        )
    return out


def _staff(rng: random.Random, loc: Location) -> None:
    n_service, n_assoc = rng.randint(4, 7), rng.randint(1, 2)
    positions = [rng.choice(SERVICE_POSITIONS) for _ in range(n_service)]
    positions += [ASSOCIATE_POSITION] * n_assoc + [ADMIN_POSITION]
    for k, position in enumerate(positions, 1):
        first, surname, _ = full_name(rng, female=rng.random() < 0.8)
        loc.specialists.append(
            Specialist(
                id=f"{loc.id}-S{k:02d}",
                location_id=loc.id,
                name=f"{first} {surname}",
                position=position,
                is_associate=position == ASSOCIATE_POSITION,
            )
        )


def _promotions(rng: random.Random, loc: Location, w: _Window) -> None:
    templates = [*PROMOTION_TEMPLATES[:4], rng.choice(PROMOTION_TEMPLATES[4:])]
    for k, (name, ptype) in enumerate(templates, 1):
        starts = None if rng.random() < 0.6 else w.start - timedelta(days=rng.randint(20, 200))
        ends = w.at(rng.uniform(0.3, 0.6)) if k == 5 else None
        loc.promotions.append(Promotion(f"{loc.id}-P{k}", loc.id, name, ptype, starts, ends))


def _code(
    rng: random.Random,
    loc: Location,
    num: int,
    w: _Window,
    starts: datetime,
    campaign: str | None = None,
) -> PromoCode:
    campaign = campaign or rng.choice(CODE_CAMPAIGNS)
    welcome = campaign == "Приветственный бонус"
    r = rng.random()
    ends = (
        None
        if r < 0.45
        else _utc(w.at(rng.uniform(0.35, 0.9)), 0)
        if r < 0.75
        else _utc(w.stop + timedelta(days=rng.randint(10, 120)), 0)
    )
    letters = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(4))
    return PromoCode(
        id=f"{loc.id}-PC{num:02d}",
        code=f"{loc.id[:3]}-{letters}",
        campaign=campaign,
        location=loc.index,
        bonus=rng.choice((300, 500, 500, 700, 1000, 1500)) * 100,
        activation_limit=None,
        account_limit=1 if welcome else rng.choice((None, None, 3)),
        first_topup_only=welcome or rng.random() < 0.2,
        planned=None,
        starts_at=starts,
        ends_at=ends,
        weight=rng.uniform(0.5, 2.0),
    )


def _plan_budgets(rng: random.Random, codes: list[PromoCode], vol: Volumes, w: _Window) -> None:
    """Planned activations near the expected ones, so some codes overrun their budget;
    a couple of popular codes get a limit they will hit before they end."""
    total_weight = sum(c.weight for c in codes if not c.leak) or 1.0
    stop_dt = _utc(w.stop, 0)
    start_dt = _utc(w.start, 0)
    expected: dict[str, float] = {}
    for c in codes:
        if c.leak:
            continue
        begin = max(c.starts_at, start_dt)
        end = min(c.ends_at or stop_dt, stop_dt)
        days = max(0.0, (end - begin).total_seconds() / 86400)
        expected[c.id] = vol.activations_per_day * days * c.weight / total_weight * 1.4
        c.planned = (
            None if rng.random() < 0.15 else max(1, round(expected[c.id] * rng.uniform(0.6, 1.5)))
        )
    open_ended = sorted(
        (c for c in codes if not c.leak and c.ends_at is None and c.starts_at <= start_dt),
        key=lambda c: -expected[c.id],
    )
    for c in open_ended[:2]:
        c.activation_limit = max(3, round(expected[c.id] * 0.5))
        c.account_limit = None


def build_world(seed: int, vol: Volumes, start: date, stop: date, scale: float) -> World:
    rng = random.Random(seed * 7919 + 17)
    w = _Window(start, stop)
    initial_day = start - timedelta(days=1)
    t0 = _utc(initial_day)
    locs = _locations(rng, vol.locations)
    for loc in locs:
        _staff(rng, loc)
        _promotions(rng, loc, w)

    # Locations: a test store that is deleted, a store whose time zone is blank at first.
    test = Location(-1, "TEST01", "Тестовый салон", "Тест", "Москва", "Europe/Moscow", 180, 0)
    blank_tz = next((x for x in locs[1:] if x.timezone == "Europe/Moscow"), None)
    loc_initial = [
        _location_row(x, t0, timezone="" if x is blank_tz else None) for x in [*locs, test]
    ]
    d1, d2 = w.at(0.3), w.at(0.7)
    renamed = locs[0]
    loc_change1 = [
        _location_row(test, _utc(d1), deleted=True),
        _location_row(renamed, _utc(d1), name=renamed.name + " (флагман)"),
    ]
    if blank_tz is not None:
        loc_change1.append(_location_row(blank_tz, _utc(d1)))
    renamed.name += " (флагман)"
    code, city, tz, hours, group = CITIES[1]
    opening = Location(-2, f"{code}99", f"{BRAND} Плотинка", group, city, tz, hours * 60, 0)
    loc_change2 = [_location_row(opening, _utc(d2))]

    # Staff: hires at a quarter of the window, departures later, a duplicate entry
    # created by mistake and deleted.
    hire_day, leave_day = w.at(0.25), w.at(0.6)
    spec_initial = [_specialist_row(s, t0, x.off) for x in locs for s in x.specialists]
    spec_change1: list[tuple[Row, int]] = []
    spec_change2: list[tuple[Row, int]] = []
    for x in locs:
        if rng.random() < 0.5:
            first, surname, _ = full_name(rng, female=True)
            s = Specialist(
                f"{x.id}-S{len(x.specialists) + 1:02d}",
                x.id,
                f"{first} {surname}",
                rng.choice(SERVICE_POSITIONS),
                False,
                hired=hire_day,
            )
            x.specialists.append(s)
            spec_change1.append(_specialist_row(s, _utc(hire_day), x.off))
        if rng.random() < 0.35:
            leaver = rng.choice(
                [s for s in x.specialists if not s.is_associate and s.position != ADMIN_POSITION]
            )
            leaver.left = leave_day
            leaver.position += " (уволен)"
            spec_change2.append(_specialist_row(leaver, _utc(leave_day), x.off))
    dup_home = locs[-1]
    base = dup_home.specialists[0]
    dup = Specialist(
        f"{dup_home.id}-S{len(dup_home.specialists) + 1:02d}",
        dup_home.id,
        "Дубль: " + base.name,
        base.position,
        False,
        bookable=False,
    )
    dup_home.specialists.append(dup)
    spec_change1.append(_specialist_row(dup, _utc(hire_day), dup_home.off))
    spec_change2.append(_specialist_row(dup, _utc(leave_day), dup_home.off, deleted=True))

    # Promotions: seasonal ones announced a week before they start.
    promo_initial = [_promotion_row(p, t0, x.off) for x in locs for p in x.promotions]
    seasonal: list[list[tuple[Row, int]]] = []
    announce = [w.at(0.35), w.at(0.72)]
    for (name, ptype), day in zip(SEASONAL_PROMOTIONS, announce, strict=True):
        rows = []
        for x in locs:
            if rng.random() < 0.6:
                p = Promotion(
                    f"{x.id}-P{len(x.promotions) + 1}",
                    x.id,
                    name,
                    ptype,
                    day + timedelta(days=7),
                    day + timedelta(days=67),
                )
                x.promotions.append(p)
                rows.append(_promotion_row(p, _utc(day), x.off))
        seasonal.append(rows)

    # Promo codes per club; one leaks (a few people activate it over and over).
    per_loc = 2 + round(scale**0.25)  # 3 per club at scale 1, 8 at scale 1000
    codes: list[PromoCode] = []
    for x in locs:
        for k in range(per_loc):
            starts = _utc(start - timedelta(days=rng.randint(0, 120)), 0)
            campaign = "Приветственный бонус" if k == 0 else None
            codes.append(_code(rng, x, k + 1, w, starts, campaign))
    codes[min(3, len(codes) - 1)].bonus = 2500 * 100  # generous beyond the average check
    leak = PromoCode(
        f"{locs[0].id}-PC99",
        "DRUZYA2026",
        "Партнёрская программа",
        0,
        500 * 100,
        None,
        None,
        False,
        40,
        _utc(start - timedelta(days=30), 0),
        None,
        0.6,  # a few ordinary members use it too, besides the people it leaked to
        leak=True,
    )
    codes.append(leak)
    new_codes_day = w.at(0.5)
    new_codes = []
    for x in locs:
        c = _code(rng, x, per_loc + 1, w, _utc(new_codes_day, 0), "Летний марафон")
        c.ends_at = _utc(new_codes_day + timedelta(days=75), 0)
        new_codes.append(c)
    _plan_budgets(rng, codes + new_codes, vol, w)
    code_initial = [_code_row(c, locs[c.location], t0) for c in codes]
    code_change1 = [_code_row(c, locs[c.location], _utc(new_codes_day)) for c in new_codes]
    codes += new_codes
    test_code = PromoCode(
        f"{locs[0].id}-PC00",
        "TEST-000",
        "тест",
        0,
        100,
        None,
        None,
        False,
        None,
        _utc(new_codes_day, 0),
        None,
        0.0,
    )
    code_change1.append(_code_row(test_code, locs[0], _utc(new_codes_day)))
    revise_day = w.at(0.8)
    code_change2 = [_code_row(test_code, locs[0], _utc(revise_day), deleted=True)]
    for c in rng.sample([c for c in codes if not c.leak], k=min(2, len(codes) - 1)):
        c.campaign = c.campaign + " (продление)"
        code_change2.append(_code_row(c, locs[c.location], _utc(revise_day)))

    files = [
        ReferenceFile("locations", initial_day, "xlsx", loc_initial, initial=True),
        ReferenceFile("locations", d1, "csv", loc_change1),
        ReferenceFile("locations", d2, "jsonl", loc_change2),
        ReferenceFile("specialists", initial_day, "jsonl", spec_initial, initial=True),
        ReferenceFile("specialists", hire_day, "csv", spec_change1),
        ReferenceFile("specialists", leave_day, "xlsx", spec_change2),
        ReferenceFile("promotions", initial_day, "csv", promo_initial, initial=True),
        ReferenceFile("promotions", announce[0], "xlsx", seasonal[0]),
        ReferenceFile("promotions", announce[1], "jsonl", seasonal[1]),
        ReferenceFile("promo_codes", initial_day, "csv", code_initial, initial=True),
        ReferenceFile("promo_codes", new_codes_day, "xlsx", code_change1),
        ReferenceFile("promo_codes", revise_day, "jsonl", code_change2),
    ]
    return World(locations=locs, codes=codes, leak_code=leak, leak_from=w.at(0.5), files=files)
