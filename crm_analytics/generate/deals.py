"""Deals: inquiries, usually closed as won by the realizations they lead to."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from . import rows
from .draw import pick, randint
from .reference import Location
from .sim import Sim
from .vocab import CHANNELS


def record_deal(
    sim: Sim,
    loc: Location,
    client_id: str | None,
    opened_at: datetime,
    channel: str | None,
    status: str,
    closed_at: datetime,
) -> str:
    """Write a deal in its final state; some arrive first as `open` and are closed by a
    later version, as a CRM's incremental export shows them."""
    deal_id = sim.next_id("deal")
    final = rows.deal(
        deal_id, loc.id, client_id, opened_at, channel, sim.enum(status), None, closed_at
    )
    if sim.messy and status != "open" and sim.rng.random() < 0.15:
        sim.write("deals", rows.revised(final, opened_at, {rows.DEAL_STATUS: "open"}), loc.off)
        if sim.pending.correct(closed_at, "deals", final, loc.off):
            return deal_id
    sim.write("deals", final, loc.off)
    return deal_id


def stray_inquiries(sim: Sim, day: date) -> None:
    """Inquiries that never led to a realization: lost, or still open."""
    rng = sim.rng
    for _ in range(sim.count(sim.vol.visits_per_day * 0.12)):
        loc = sim.location()
        client = sim.pop.pick(rng, loc.index, day)
        client_id = None if client is None or rng.random() < 0.15 else sim.pop.client_id(client)
        opened = datetime.combine(day, time(9)) + timedelta(minutes=randint(rng, 0, 12 * 60))
        lost = rng.random() < 0.7
        closed = opened + timedelta(hours=randint(rng, 1, 72)) if lost else opened
        if closed >= sim.end_dt:
            closed = opened
        record_deal(
            sim, loc, client_id, opened, pick(rng, CHANNELS), "lost" if lost else "open", closed
        )
