"""Shared state of one generator run: randomness, ids, the open files of the period."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from datetime import date, datetime
from pathlib import Path
from typing import Any

from crm_analytics.contract import entities

from .draw import pick
from .layout import file_options, period_format
from .pending import Pending
from .periods import Period
from .plan import Volumes
from .population import Population
from .reference import Location, World
from .summary import GenerateSummary
from .writers import ExtractWriter, FileOptions

_ID_FORMATS = {
    "visit": "V{:07d}",
    "appointment": "A{:08d}",
    "deal": "D{:07d}",
    "sale": "S{:08d}",
    "activity": "ACT{:07d}",
    "sms": "SMS{:08d}",
    "activation": "PA{:07d}",
}
# Visits and purchases per weekday (Mon..Sun), mean 1.
WEEKDAY_FACTOR = (0.8, 0.85, 0.95, 1.0, 1.1, 1.3, 1.0)


class Sim:
    def __init__(
        self,
        out_dir: Path,
        seed: int,
        vol: Volumes,
        world: World,
        pop: Population,
        start: date,
        stop: date,
        messy: bool,
        summary: GenerateSummary,
    ) -> None:
        self.out_dir = out_dir
        self.seed = seed
        self.vol = vol
        self.world = world
        self.pop = pop
        self.start = start
        self.end_dt = datetime(stop.year, stop.month, stop.day)
        self.messy = messy
        self.summary = summary
        self.rng = random.Random(seed)
        # File habits draw from their own stream so they don't shift the data's draws.
        self.file_rng = random.Random(seed ^ 0x5EED)
        self.pending = Pending()
        self.writers: dict[str, ExtractWriter] = {}
        self.period: Period | None = None
        self._ids = dict.fromkeys(_ID_FORMATS, 0)
        self._id_format = {kind: fmt.format for kind, fmt in _ID_FORMATS.items()}
        self._cum_weights: list[float] = []
        acc = 0.0
        for loc in world.locations:
            acc += loc.weight
            self._cum_weights.append(acc)

    # ----- ids and draws ---------------------------------------------------------------
    def next_id(self, kind: str) -> str:
        n = self._ids[kind] = self._ids[kind] + 1
        return self._id_format[kind](n)

    def location(self) -> Location:
        cum = self._cum_weights
        return self.world.locations[bisect_right(cum, self.rng.random() * cum[-1])]

    def count(self, mean: float) -> int:
        """A Poisson-distributed count (normal approximation for large means)."""
        rng = self.rng
        if mean <= 0:
            return 0
        if mean > 30:
            return max(0, round(rng.gauss(mean, math.sqrt(mean))))
        limit, k, p = math.exp(-mean), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k

    def enum(self, value: str) -> str:
        """Status spellings vary in case and padding; staging trims and lower-cases."""
        if self.messy and self.rng.random() < 0.03:
            return pick(self.rng, (value.capitalize(), value.upper(), f" {value} "))
        return value

    # ----- files -------------------------------------------------------------------------
    def open_file(self, entity: str, name: str, options: FileOptions) -> ExtractWriter:
        folder = self.out_dir / entity
        return ExtractWriter(
            folder / name, entities()[entity], options, seed=self.file_rng.getrandbits(64)
        )

    def finish_file(self, writer: ExtractWriter) -> Path:
        size = writer.close()
        self.summary.add(writer.entity.name, writer.rows, size)
        return writer.path

    def open_period(self, period: Period, entity_names: tuple[str, ...]) -> None:
        self.period = period
        for entity in entity_names:
            fmt = period_format(entity, period.index)
            options = file_options(self.file_rng, entity, fmt, self.messy)
            self.writers[entity] = self.open_file(entity, f"{period.name}.{fmt}", options)

    def close_period(self) -> dict[str, Path]:
        paths = {entity: self.finish_file(w) for entity, w in self.writers.items()}
        self.writers = {}
        return paths

    def write(self, entity: str, row: tuple[Any, ...], off: int) -> None:
        self.writers[entity].write(row, off)
