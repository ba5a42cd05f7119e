"""Entry point: a deterministic landing folder of CRM, POS and clienteling extracts."""

from __future__ import annotations

import time as clock
from datetime import date, datetime, timedelta
from pathlib import Path

from crm_analytics.contract import ENTITY_NAMES

from . import clients, specials
from .clienteling import PURCHASE, day_activities
from .codes import Activations
from .deals import stray_inquiries
from .draw import randint
from .layout import TRANSACTIONAL, file_options, period_format, without_is_deleted
from .messaging import campaign_days, run_campaign
from .pending import CORRECTION
from .periods import FilePeriod, Period, split_periods, window_start
from .plan import volumes
from .population import Population
from .reference import ReferenceFile
from .shop import REFUND, purchase, refund
from .sim import WEEKDAY_FACTOR, Sim
from .summary import GenerateSummary
from .visits import VISIT, day_visits, future_bookings, start_time, visit
from .world import build_world

EXTENSIONS = (".csv", ".xlsx", ".jsonl")
CORRECTIONS_EVERY = {"week": 4, "day": 28}  # periods between client corrections files


def generate(
    out_dir: Path,
    scale: float = 1.0,
    seed: int = 42,
    *,
    end_date: date = date(2026, 10, 31),
    months: int = 12,
    file_period: FilePeriod = "week",
    messy: bool = True,
    overwrite: bool = False,
) -> GenerateSummary:
    """Write a landing folder `<out_dir>/<entity>/<period>.csv|.xlsx|.jsonl`.

    Same arguments, same bytes. Memory stays bounded: rows are streamed period by period
    and clients are recomputed from their index rather than kept. Refuses to write into
    a landing that already has extract files unless `overwrite` (which removes them).
    """
    began = clock.perf_counter()
    out_dir = Path(out_dir)
    if months < 1:
        raise ValueError("months must be at least 1")
    _prepare(out_dir, overwrite)
    start = window_start(end_date, months)
    stop = end_date + timedelta(days=1)
    periods = split_periods(start, stop, file_period)
    vol = volumes(scale)
    world = build_world(seed, vol, start, stop, scale)
    pop = Population(seed, vol.clients, vol.initial_clients, start, stop, world.locations)
    summary = GenerateSummary(out_dir)
    sim = Sim(out_dir, seed, vol, world, pop, start, stop, messy, summary)

    reference = sorted(world.files, key=lambda f: (f.due, f.entity))
    for ref in reference:
        if ref.initial:
            _write_reference(sim, ref)
    clients.initial_export(sim)

    activations = Activations(sim)
    campaigns = campaign_days(start, stop)
    every = CORRECTIONS_EVERY[file_period]
    reject_at = specials.csv_period(specials.REJECT_ENTITY, periods, 0.55)
    duplicate_at = specials.csv_period(specials.DUPLICATE_ENTITY, periods, 0.3)
    drift_at = specials.csv_period(specials.DRIFT_ENTITY, periods, 0.4)

    for period in periods:
        for ref in reference:
            if not ref.initial and period.first <= ref.due < period.stop:
                _write_reference(sim, ref)
        sim.open_period(period, TRANSACTIONAL)
        fresh = _registrations(sim, period, drift=messy and period is drift_at)
        for day in period.days():
            day_visits(sim, day)
            _shop_day(sim, day)
            stray_inquiries(sim, day)
            day_activities(sim, day)
            activations.day(day)
            if day in campaigns:
                run_campaign(sim, day, *campaigns[day])
            _run_due(sim, datetime.combine(day + timedelta(days=1), datetime.min.time()))
        if period is periods[-1]:
            future_bookings(sim)
        if messy and period.index % every == every // 2:
            clients.corrections(sim, period, fresh)
        if messy and period is reject_at:
            specials.write_reject(sim, period)
        paths = sim.close_period()
        if messy and period is duplicate_at:
            specials.write_duplicate(sim, paths[specials.DUPLICATE_ENTITY])
    summary.seconds = clock.perf_counter() - began
    return summary


def _prepare(out_dir: Path, overwrite: bool) -> None:
    existing = [
        p
        for name in ENTITY_NAMES
        for p in sorted((out_dir / name).glob("*"))
        if p.suffix in EXTENSIONS
    ]
    if existing and not overwrite:
        raise FileExistsError(
            f"{out_dir} already holds extracts (e.g. {existing[0]}); "
            "pass overwrite=True to replace them"
        )
    for path in existing:
        path.unlink()
    for name in ENTITY_NAMES:
        (out_dir / name).mkdir(parents=True, exist_ok=True)


def _write_reference(sim: Sim, ref: ReferenceFile) -> None:
    columns = without_is_deleted(ref.entity) if ref.initial else None
    options = file_options(
        sim.file_rng, ref.entity, ref.fmt, sim.messy, columns=columns, bad_rows=False
    )
    writer = sim.open_file(ref.entity, ref.name, options)
    for row, off in ref.rows:
        writer.write(row, off)
    sim.finish_file(writer)


def _registrations(sim: Sim, period: Period, drift: bool) -> range:
    fmt = period_format("clients", period.index)
    options = file_options(
        sim.file_rng, "clients", fmt, sim.messy, columns=without_is_deleted("clients")
    )
    if drift:
        options = specials.drift_options(options)
    writer = sim.open_file("clients", f"{period.name}.{fmt}", options)
    fresh = clients.registrations(sim, period, writer)
    sim.finish_file(writer)
    return fresh


def _shop_day(sim: Sim, day: date) -> None:
    rng = sim.rng
    for _ in range(sim.count(sim.vol.shop_purchases_per_day * WEEKDAY_FACTOR[day.weekday()])):
        loc = sim.location()
        client = None if rng.random() < 0.28 else sim.pop.pick(rng, loc.index, day)
        when = start_time(sim, day) + timedelta(seconds=randint(rng, 0, 899))
        purchase(sim, loc, when, client)


def _run_due(sim: Sim, before: datetime) -> None:
    """Everything queued for before `before` (follow-ups may queue more)."""
    while (item := sim.pending.pop_due(before)) is not None:
        when, kind, payload = item
        if when >= sim.end_dt:
            continue
        if kind == CORRECTION:
            entity, row, off = payload
            sim.write(entity, row, off)
        elif kind == VISIT:
            loc_index, client, prefer, chain, promo_share = payload
            visit(
                sim,
                sim.world.locations[loc_index],
                when,
                client,
                promo_share=promo_share,
                prefer=prefer,
                chain=chain,
            )
        elif kind == PURCHASE:
            client, deal_id = payload
            purchase(sim, sim.pop.location_of(client), when, client, deal_id=deal_id)
        elif kind == REFUND:
            refund(sim, when, payload)
