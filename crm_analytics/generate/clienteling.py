"""Clienteling touchpoints by associates; many are followed by a purchase of the same
person within two weeks, at this store or another, under this or another of their records."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from . import rows
from .draw import MINUTE, pick, randint
from .sim import Sim
from .vocab import ACTIVITY_TYPES

PURCHASE_AFTER = 0.55
OTHER_RECORD = 0.5  # of those: the purchase is under the person's other record
WINDOW_HOURS = 14 * 24

PURCHASE = "purchase"


def day_activities(sim: Sim, day: date) -> None:
    rng = sim.rng
    pop = sim.pop
    for _ in range(sim.count(sim.vol.activities_per_day)):
        loc = sim.location()
        client = pop.pick(rng, loc.index, day)
        if client is None:
            continue
        associates = loc.associates(day)
        associate = pick(rng, associates).id if associates and rng.random() < 0.92 else None
        occurred = datetime.combine(day, time(9)) + timedelta(
            minutes=randint(rng, 0, 12 * 60), seconds=randint(rng, 0, 59)
        )
        updated = occurred + MINUTE * randint(rng, 0, 90)
        row = rows.activity(
            sim.next_id("activity"),
            pop.client_id(client),
            loc.id,
            associate,
            pick(rng, ACTIVITY_TYPES),
            occurred,
            None,
            updated,
        )
        sim.write("activities", row, loc.off)
        if sim.messy and rng.random() < 0.005:
            when = updated + timedelta(days=randint(rng, 1, 5))
            sim.pending.correct(when, "activities", rows.deleted(row, when), loc.off)
        if rng.random() >= PURCHASE_AFTER:
            continue
        buyer = client
        if rng.random() < OTHER_RECORD:
            buyer = pop.primary(client)
        # Mostly inside the 14-day attribution window, a few just outside it.
        hours = (
            rng.uniform(1, WINDOW_HOURS)
            if rng.random() < 0.92
            else rng.uniform(WINDOW_HOURS + 1, WINDOW_HOURS + 7 * 24)
        )
        # The buyer's store may keep another wall clock: keep the gap in absolute time.
        shift = pop.location_of(buyer).off - loc.off
        when = occurred + timedelta(hours=hours, minutes=shift)
        sim.pending.push(when, PURCHASE, (buyer, None))
