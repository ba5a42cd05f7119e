"""Realizations: service sales of a visit, shop purchases, drafts, refunds."""

from __future__ import annotations

from datetime import datetime, timedelta

from . import rows
from .deals import record_deal
from .draw import SECOND, pick, randint
from .reference import Location, Specialist
from .sim import Sim
from .vocab import PRODUCT_PRICES

SHOP_CHANNELS = ("walk-in", "walk-in", "instagram", "website", "telegram", "online")
GIFT_CARDS = (1000_00, 3000_00, 5000_00)
REFUND = "refund"


def sale(
    sim: Sim,
    loc: Location,
    client_id: str | None,
    deal_id: str | None,
    visit_id: str | None,
    specialist_id: str | None,
    kind: str,
    amount: int,
    created: datetime,
) -> None:
    rng = sim.rng
    sale_id = sim.next_id("sale")
    r = rng.random()
    if r < 0.03:
        # A draft, posted by a later version (usually in a later file).
        draft = rows.sale(
            sale_id,
            loc.id,
            client_id,
            deal_id,
            visit_id,
            specialist_id,
            kind,
            amount,
            sim.enum("draft"),
            None,
            created,
            None,
            created,
        )
        sim.write("sales", draft, loc.off)
        posted_at = created + timedelta(minutes=randint(rng, 20 * 60, 6 * 24 * 60))
        posted = rows.revised(
            draft, posted_at, {rows.SALE_STATUS: sim.enum("posted"), rows.SALE_POSTED_AT: posted_at}
        )
        # Past the window's end it stays a draft; over the correction cap, post it now.
        if posted_at < sim.end_dt and not sim.pending.correct(posted_at, "sales", posted, loc.off):
            sim.write("sales", posted, loc.off)
        return
    if r < 0.045:
        sim.write(
            "sales",
            rows.sale(
                sale_id,
                loc.id,
                client_id,
                deal_id,
                visit_id,
                specialist_id,
                kind,
                amount,
                sim.enum("cancelled"),
                None,
                created,
                None,
                created + timedelta(minutes=2),
            ),
            loc.off,
        )
        return
    posted_at = created + SECOND * randint(rng, 5, 600)
    row = rows.sale(
        sale_id,
        loc.id,
        client_id,
        deal_id,
        visit_id,
        specialist_id,
        kind,
        amount,
        sim.enum("posted"),
        posted_at,
        created,
        None,
        posted_at,
    )
    sim.write("sales", row, loc.off)
    if sim.messy:
        x = rng.random()
        if x < 0.003:
            when = posted_at + timedelta(days=randint(rng, 1, 7))
            sim.pending.correct(when, "sales", rows.deleted(row, when), loc.off)
        elif x < 0.005:  # re-sent unchanged in a later file: same updated_at
            sim.pending.correct(posted_at + timedelta(days=8), "sales", row, loc.off)
    if client_id is not None and amount > 0 and rng.random() < 0.025:
        when = posted_at + timedelta(days=randint(rng, 1, 20), minutes=randint(rng, 0, 600))
        sim.pending.push(when, REFUND, (loc.index, client_id, deal_id, specialist_id, kind, amount))


def refund(sim: Sim, when: datetime, payload: tuple) -> None:
    loc_index, client_id, deal_id, specialist_id, kind, amount = payload
    rng = sim.rng
    if rng.random() >= 0.6:
        amount = max(100, amount * randint(rng, 20, 80) // 10000 * 100)
    loc = sim.world.locations[loc_index]
    posted_at = when + timedelta(seconds=randint(rng, 5, 300))
    sim.write(
        "sales",
        rows.sale(
            sim.next_id("sale"),
            loc.id,
            client_id,
            deal_id,
            None,
            specialist_id,
            kind,
            -amount,
            sim.enum("posted"),
            posted_at,
            when,
            None,
            posted_at,
        ),
        loc.off,
    )


def _line(sim: Sim) -> tuple[str, int]:
    rng = sim.rng
    r = rng.random()
    if r < 0.85:
        return "product", round(pick(rng, PRODUCT_PRICES) * 100) * pick(rng, (1, 1, 1, 2))
    if r < 0.94:
        return "other", pick(rng, GIFT_CARDS)
    return "service", pick(rng, (500, 900, 1500)) * 100


def purchase(
    sim: Sim,
    loc: Location,
    when: datetime,
    client: int | None,
    *,
    deal_id: str | None = None,
    specialist: Specialist | None = None,
) -> None:
    """A shop purchase of one to three lines, sometimes within a deal."""
    rng = sim.rng
    client_id = None if client is None else sim.pop.client_id(client)
    if deal_id is None and client_id is not None and rng.random() < 0.22:
        opened = when - timedelta(minutes=randint(rng, 0, 72 * 60))
        deal_id = record_deal(sim, loc, client_id, opened, pick(rng, SHOP_CHANNELS), "won", when)
    if specialist is None and rng.random() < 0.4:
        staff = loc.associates(when.date())
        specialist = pick(rng, staff) if staff else None
    specialist_id = specialist.id if specialist else None
    r = rng.random()
    lines = 1 if r < 0.7 else 2 if r < 0.92 else 3
    for k in range(lines):
        kind, amount = _line(sim)
        sale(
            sim, loc, client_id, deal_id, None, specialist_id, kind, amount, when + SECOND * (k * 7)
        )
