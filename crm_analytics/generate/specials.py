"""The deliberately broken landings: a file to reject, a duplicate, a schema drift."""

from __future__ import annotations

import shutil
from datetime import datetime, time, timedelta
from pathlib import Path

from crm_analytics.contract import entities

from . import rows
from .draw import randint
from .layout import period_format
from .periods import Period
from .sim import Sim
from .writers import FileOptions

REJECT_ENTITY = "sales"
DUPLICATE_ENTITY = "appointments"
DRIFT_ENTITY = "clients"
DRIFT_COLUMN = "telegram"


def csv_period(entity: str, periods: list[Period], fraction: float) -> Period:
    """The first period from `fraction` of the window on whose file for `entity` is CSV."""
    start = min(len(periods) - 1, int(len(periods) * fraction))
    for period in periods[start:] + periods[:start]:
        if period_format(entity, period.index) == "csv":
            return period
    return periods[start]


def drift_options(options: FileOptions) -> FileOptions:
    """The period's clients file with a column the contract doesn't know."""

    def telegram(row: rows.Row) -> str:
        email = row[4]
        return "" if not email else "@" + email.strip().split("@")[0].lower().replace(".", "_")

    options.extra = ((DRIFT_COLUMN, telegram),)
    return options


def write_reject(sim: Sim, period: Period) -> Path:
    """A manual sales upload without the required `amount` column: rejected whole."""
    columns = tuple(n for n in entities()[REJECT_ENTITY].column_names if n != "amount")
    writer = sim.open_file(
        REJECT_ENTITY, f"{period.name}_manual_upload.csv", FileOptions(fmt="csv", columns=columns)
    )
    rng = sim.rng
    for k in range(12):
        loc = sim.location()
        client = sim.pop.pick(rng, loc.index, period.first)
        when = datetime.combine(period.first, time(12)) + timedelta(minutes=17 * k)
        writer.write(
            rows.sale(
                f"MAN-{period.name}-{k + 1:03d}",
                loc.id,
                None if client is None else sim.pop.client_id(client),
                None,
                None,
                None,
                "product",
                randint(rng, 5, 50) * 10000,
                "posted",
                when,
                when,
                None,
                when,
            ),
            loc.off,
        )
    return sim.finish_file(writer)


def write_duplicate(sim: Sim, original: Path) -> Path:
    """The same bytes landed again under another name (a re-sent export)."""
    copy = original.with_name(f"{original.stem}_resend{original.suffix}")
    shutil.copyfile(original, copy)
    with original.open(encoding="utf-8-sig") as fh:
        rows_in_file = sum(1 for _ in fh) - 1  # no value spans lines in generated CSV
    sim.summary.add(DUPLICATE_ENTITY, rows_in_file, copy.stat().st_size)
    return copy
