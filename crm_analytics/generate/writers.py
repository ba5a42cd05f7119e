"""One landing file: typed rows in, CSV / xlsx / JSONL bytes out, with per-file habits."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

from crm_analytics.contract import Column, Entity

from .corrupt import corruptions
from .values import Style, csv_converters, json_converters, xlsx_converters
from .xlsx import XlsxSheetWriter

Format = Literal["csv", "xlsx", "jsonl"]
HeaderCase = Literal["plain", "title", "upper", "padded"]
ExtraColumn = tuple[str, Callable[[tuple[Any, ...]], Any]]


@dataclass
class FileOptions:
    fmt: Format = "csv"
    style: Style = field(default_factory=Style)
    columns: tuple[str, ...] | None = None  # subset/order of the contract's; None = all
    extra: tuple[ExtraColumn, ...] = ()  # schema drift: columns the contract doesn't know
    header_case: HeaderCase = "plain"
    bom: bool = False
    alt_style: Style | None = None  # some rows come from another code path
    alt_rate: float = 0.0
    bad_rate: float = 0.0  # share of rows made invalid
    text_timestamps: bool = False  # xlsx: timestamps written as text


def _header_name(name: str, case: HeaderCase) -> str:
    if case == "title":
        return "_".join(part.capitalize() for part in name.split("_"))
    if case == "upper":
        return name.upper()
    if case == "padded":
        return f" {name} "
    return name


class ExtractWriter:
    """Writes rows given in the contract's column order (typed values) to one file.

    ``write(row, off)`` takes the row and the UTC offset, in minutes, of the location
    whose wall clock the row's timestamps are in.
    """

    def __init__(self, path: Path, entity: Entity, options: FileOptions, seed: int) -> None:
        self.path = path
        self.entity = entity
        self.options = options
        self.rows = 0
        self._rng = random.Random(seed)
        by_name = {c.name: c for c in entity.columns}
        names = options.columns or entity.column_names
        self._cols: list[Column] = [by_name[n] for n in names]
        self._get = itemgetter(*(entity.column_names.index(n) for n in names))
        types = [c.type for c in self._cols]
        fmt = options.fmt
        header = [_header_name(n, options.header_case) for n in names]
        header += [name for name, _ in options.extra]
        self._header = header
        alt = options.alt_style or options.style
        if fmt == "csv":
            convs, alts = csv_converters(types, options.style), csv_converters(types, alt)
            empty: Any = ""
            encoding = "utf-8-sig" if options.bom else "utf-8"
            self._fh = open(path, "w", encoding=encoding, newline="")  # noqa: SIM115
            self._csv = csv.writer(self._fh)
            self._csv.writerow(header)
            self._emit = self._csv.writerow
        elif fmt == "jsonl":
            convs, alts = json_converters(types, options.style), json_converters(types, alt)
            empty = None
            self._fh = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
            self._emit = self._emit_json
        elif fmt == "xlsx":
            convs = xlsx_converters(types, options.style, options.text_timestamps)
            alts = xlsx_converters(types, alt, True)
            empty = None
            self._xlsx = XlsxSheetWriter(path)
            self._xlsx.append(header)
            self._emit = self._xlsx.append
        else:
            raise ValueError(f"unknown format {fmt!r}")
        # Only columns that need converting are visited per row.
        self._conv = [(j, f) for j, f in enumerate(convs) if f is not None]
        self._alt = [(j, f) for j, f in enumerate(alts) if f is not None]
        self._bad = corruptions(self._cols, entity.key, empty)
        self._random = self._rng.random
        self._alt_rate = options.alt_rate
        self._bad_from = options.alt_rate
        self._bad_to = options.alt_rate + (options.bad_rate if self._bad else 0.0)
        self._extra = options.extra

    def _emit_json(self, cells: list[Any]) -> None:
        if self.options.style.json_omit_nulls:
            obj = {k: v for k, v in zip(self._header, cells, strict=True) if v is not None}
        else:
            obj = dict(zip(self._header, cells, strict=True))
        self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def write(self, row: tuple[Any, ...], off: int) -> None:
        # One draw decides both: a row in the alternate style, or a bad row.
        u = self._random()
        cells = list(self._get(row))
        for j, f in self._alt if u < self._alt_rate else self._conv:
            cells[j] = f(cells[j], off)
        if u >= self._bad_from and u < self._bad_to:
            self._rng.choice(self._bad)(cells, self._rng)
        if self._extra:
            cells.extend(value(row) for _, value in self._extra)
        self._emit(cells)
        self.rows += 1

    def close(self) -> int:
        """Finish the file; returns its size in bytes."""
        if self.options.fmt == "xlsx":
            self._xlsx.close()
        else:
            self._fh.close()
        return self.path.stat().st_size
