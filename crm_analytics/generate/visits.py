"""Visits: one to three appointments with one or two specialists, the deal behind them,
and the service sales paid in them. Promo visits bring some clients back."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from . import rows
from .deals import record_deal
from .draw import HOUR, MINUTE, SECOND, pick, randint
from .messaging import reminder
from .reference import Location, Promotion, Specialist
from .shop import sale
from .sim import WEEKDAY_FACTOR, Sim
from .vocab import SERVICE_PRICES

PROMO_SHARE = 0.2  # of ordinary visits
FIRST_VISIT_PROMO_SHARE = 0.5
RETURN_AFTER_PROMO = 0.55
RETURN_AGAIN = 0.4
MAX_RETURN_CHAIN = 3
DISCOUNTS = (10, 15, 20, 25)  # per cent, for fixed_discount promotions

VISIT = "visit"


def _status(sim: Sim, start: datetime) -> str:
    if start >= sim.end_dt:
        return "booked"
    r = sim.rng.random()
    if r < 0.80:
        return "arrived"
    if r < 0.88:
        return "no_show"
    if r < 0.994:
        return "cancelled"
    return "booked"  # never updated by the front desk


def _service_price(sim: Sim, promotion: Promotion | None) -> int:
    rng = sim.rng
    amount = round(pick(rng, SERVICE_PRICES) * pick(rng, (0.9, 1.0, 1.0, 1.1)) / 50) * 5000
    if promotion is not None and promotion.type == "fixed_discount":
        amount = amount * (100 - pick(rng, DISCOUNTS)) // 100
    return amount


def _channel(sim: Sim, walk_in: bool, online: bool) -> str:
    if walk_in:
        return "walk-in"
    if online:
        return pick(sim.rng, ("online", "online", "instagram", "website"))
    return pick(sim.rng, ("phone", "phone", "Phone", "WhatsApp", "telegram", "referral"))


def visit(
    sim: Sim,
    loc: Location,
    start: datetime,
    client: int | None,
    *,
    promo_share: float = PROMO_SHARE,
    prefer: Specialist | None = None,
    chain: int = 0,
    created: datetime | None = None,
) -> None:
    rng = sim.rng
    day = start.date()
    staff = loc.service_staff(day)
    if not staff:
        return
    r = rng.random()
    n = 1 if r < 0.55 else 2 if r < 0.87 else 3
    first = prefer if prefer is not None and prefer in staff else pick(rng, staff)
    specialists = [first]
    if n > 1 and len(staff) > 1 and rng.random() < 0.45:
        specialists.append(pick(rng, [s for s in staff if s is not first]))

    walk_in = created is None and rng.random() < 0.12
    if created is None:
        lead = (
            MINUTE * randint(rng, 0, 20)
            if walk_in
            else (
                HOUR * min(21 * 24, int(rng.expovariate(1 / 60)) + 1) + MINUTE * randint(rng, 0, 59)
            )
        )
        created = start - lead
    online = not walk_in and rng.random() < 0.4
    status = _status(sim, start)
    promos = loc.promotions_on(day) if rng.random() < promo_share else []
    promotion = pick(rng, promos) if promos else None
    client_id = None if client is None else sim.pop.client_id(client)
    visit_id = sim.next_id("visit")

    deal_id = None
    if rng.random() < 0.55:
        opened = created if walk_in else created - MINUTE * randint(rng, 0, 48 * 60)
        outcome = {"arrived": "won", "booked": "open"}.get(status, "lost")
        closed = start if outcome != "open" else opened
        deal_id = record_deal(
            sim, loc, client_id, opened, _channel(sim, walk_in, online), outcome, closed
        )

    paid: list[tuple[Specialist, Promotion | None]] = []
    t = start
    for k in range(n):
        specialist = specialists[k % len(specialists)]
        minutes = pick(rng, (45, 60, 60, 90, 120))
        a_status = status
        if status == "arrived" and k > 0 and rng.random() < 0.08:
            a_status = "cancelled"
        applied = promotion if promotion is not None and (k == 0 or rng.random() < 0.3) else None
        if a_status == "arrived":
            updated = t + MINUTE * (minutes + randint(rng, 0, 15))
            paid.append((specialist, applied))
        elif a_status == "no_show":
            updated = t + MINUTE * 30
        elif a_status == "cancelled":
            updated = created + (t - created) * rng.random()
        else:
            updated = created
        row = rows.appointment(
            sim.next_id("appointment"),
            visit_id,
            loc.id,
            client_id,
            specialist.id,
            applied.id if applied else None,
            deal_id,
            t,
            created,
            sim.enum(a_status),
            online,
            None,
            updated,
        )
        _write_appointment(sim, loc, row, a_status, created)
        t += MINUTE * minutes

    if client is not None and not walk_in and rng.random() < 0.25:
        reminder(sim, client, start, created)
    if not paid:
        return
    end = t + SECOND * randint(rng, 0, 659)
    if len(paid) > 1 and rng.random() < 0.3:  # one receipt for the whole visit
        amount = sum(_service_price(sim, applied) for _, applied in paid)
        sale(sim, loc, client_id, deal_id, visit_id, paid[0][0].id, "service", amount, end)
    else:
        for k, (specialist, applied) in enumerate(paid):
            sale(
                sim,
                loc,
                client_id,
                deal_id,
                visit_id,
                specialist.id,
                "service",
                _service_price(sim, applied),
                end + SECOND * (k * 11),
            )
    if rng.random() < 0.25:  # a product on the way out
        sale(
            sim,
            loc,
            client_id,
            deal_id,
            visit_id,
            first.id if rng.random() < 0.5 else None,
            "product",
            pick(rng, (790, 1190, 1590, 2490, 3290)) * 100,
            end + MINUTE,
        )
    if client is None:
        return
    if deal_id is not None and rng.random() < 0.08:  # the same deal: bought later
        later = end + timedelta(days=randint(rng, 2, 20), minutes=randint(rng, 0, 300))
        sim.pending.push(later, "purchase", (client, deal_id))
    came_back = RETURN_AFTER_PROMO if promotion is not None else RETURN_AGAIN if chain else 0.0
    if chain < MAX_RETURN_CHAIN and rng.random() < came_back:
        when = datetime.combine(day + timedelta(days=randint(rng, 7, 80)), time(10)) + timedelta(
            minutes=15 * randint(rng, 0, 40)
        )
        keep = first if rng.random() < 0.6 else None
        sim.pending.push(when, VISIT, (loc.index, client, keep, chain + 1, PROMO_SHARE / 2))


def _write_appointment(
    sim: Sim, loc: Location, row: rows.Row, status: str, created: datetime
) -> None:
    rng = sim.rng
    if sim.messy and status == "arrived" and rng.random() < 0.08:
        # Exported while still booked; the arrival comes in a later version.
        sim.write(
            "appointments", rows.revised(row, created, {rows.APPOINTMENT_STATUS: "booked"}), loc.off
        )
        later = row[-1] + timedelta(hours=randint(rng, 1, 72))
        if later < sim.end_dt and sim.pending.correct(
            later, "appointments", rows.revised(row, later), loc.off
        ):
            return
    sim.write("appointments", row, loc.off)
    if not sim.messy:
        return
    x = rng.random()
    if x < 0.004:
        when = row[-1] + timedelta(days=randint(rng, 2, 10))
        sim.pending.correct(when, "appointments", rows.deleted(row, when), loc.off)
    elif x < 0.006:  # re-sent later with the same updated_at but a changed flag
        sim.pending.correct(
            row[-1] + timedelta(days=8),
            "appointments",
            rows.revised(row, row[-1], {rows.APPOINTMENT_ONLINE: not row[10]}),
            loc.off,
        )


def start_time(sim: Sim, day: date) -> datetime:
    return datetime.combine(day, time(10)) + MINUTE * (15 * randint(sim.rng, 0, 40))


def day_visits(sim: Sim, day: date) -> None:
    rng = sim.rng
    for _ in range(sim.count(sim.vol.visits_per_day * WEEKDAY_FACTOR[day.weekday()])):
        loc = sim.location()
        client = None if rng.random() < 0.04 else sim.pop.pick(rng, loc.index, day)
        visit(sim, loc, start_time(sim, day), client)


def future_bookings(sim: Sim) -> None:
    """Bookings made before the window's end for visits after it: still `booked`."""
    rng = sim.rng
    period = sim.period
    assert period is not None
    for _ in range(sim.count(sim.vol.visits_per_day * 7)):
        loc = sim.location()
        start = start_time(sim, sim.end_dt.date() + timedelta(days=randint(rng, 0, 20)))
        earliest = max(period.start_dt, start - timedelta(days=21))
        created = earliest + (sim.end_dt - timedelta(hours=1) - earliest) * rng.random()
        client = None if rng.random() < 0.04 else sim.pop.pick(rng, loc.index, created.date())
        visit(sim, loc, start, client, created=created)
