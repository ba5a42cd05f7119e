"""Client files: the initial full export, each period's new registrations, and now and
then a corrections file (phone fixes, upgrades, deletions, re-sends)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from . import rows
from .draw import pick, randint
from .layout import file_options, without_is_deleted
from .periods import Period
from .sim import Sim
from .visits import FIRST_VISIT_PROMO_SHARE, VISIT
from .writers import ExtractWriter

FIRST_VISIT = 0.55  # of new registrations: a first visit soon after
CORRECTED_SHARE = 0.01  # of registered records, per corrections file
TIE_RESENDS = 2

_NAME, _PHONE, _EMAIL, _IMPORTANCE, _BALANCE = 2, 3, 4, 7, 9


def initial_export(sim: Sim) -> None:
    day = sim.start - timedelta(days=1)
    options = file_options(
        sim.file_rng, "clients", "csv", sim.messy, columns=without_is_deleted("clients")
    )
    options.bom = sim.messy
    writer = sim.open_file("clients", f"{day.isoformat()}.csv", options)
    for i in range(sim.pop.initial):
        writer.write(sim.pop.row(i), sim.pop.location_of(i).off)
    sim.finish_file(writer)


def registrations(sim: Sim, period: Period, writer: ExtractWriter) -> range:
    """Write the records registered in the period; returns their index range."""
    pop, rng = sim.pop, sim.rng
    new = range(pop.count_before(period.first), pop.count_before(period.stop))
    for i in new:
        row = pop.row(i)
        loc = pop.location_of(i)
        writer.write(row, loc.off)
        if rng.random() < FIRST_VISIT:
            registered: datetime = row[8]
            if rng.random() < 0.6:  # registered at the desk right before the first visit
                start = registered + timedelta(minutes=10)
            else:
                start = datetime.combine(
                    registered.date() + timedelta(days=randint(rng, 1, 10)), time(10)
                ) + timedelta(minutes=15 * randint(rng, 0, 40))
            sim.pending.push(start, VISIT, (loc.index, i, None, 0, FIRST_VISIT_PROMO_SHARE))
    return new


def _corrected(sim: Sim, row: rows.Row, when: datetime) -> rows.Row:
    rng = sim.rng
    kind = rng.random()
    if kind < 0.05:
        return rows.deleted(row, when)
    if kind < 0.35:
        digits = "".join(ch for ch in (row[_PHONE] or "") if ch.isdigit())[-10:]
        if len(digits) == 10:
            return rows.revised(row, when, {_PHONE: "+7" + digits})
    if kind < 0.5:
        email = row[_EMAIL]
        if email:
            return rows.revised(row, when, {_EMAIL: email.strip().lower()})
    if kind < 0.65:
        return rows.revised(row, when, {_IMPORTANCE: pick(rng, ("Silver", "gold", "GOLD"))})
    if kind < 0.8 and row[_NAME]:
        return rows.revised(row, when, {_NAME: " ".join(row[_NAME].split()).title()})
    return rows.revised(row, when, {_BALANCE: randint(rng, 0, 3_000_000)})


def corrections(sim: Sim, period: Period, fresh: range) -> None:
    """Re-sent records with later versions, plus a few with an unchanged updated_at."""
    pop, rng = sim.pop, sim.rng
    known = pop.count_before(period.first)
    if known == 0:
        return
    options = file_options(sim.file_rng, "clients", "csv", sim.messy)
    writer = sim.open_file("clients", f"{period.name}_corrections.csv", options)
    span = (period.stop_dt - period.start_dt).total_seconds()
    for _ in range(max(3, round(known * CORRECTED_SHARE))):
        i = int(rng.random() * known)
        when = period.start_dt + timedelta(seconds=int(rng.random() * span))
        writer.write(_corrected(sim, pop.row(i), when), pop.location_of(i).off)
    for i in fresh[:TIE_RESENDS]:
        row = pop.row(i)  # same updated_at as in the period's file: the later file wins
        writer.write(
            rows.revised(row, row[-1], {_BALANCE: randint(rng, 0, 500_000)}), pop.location_of(i).off
        )
    sim.finish_file(writer)
