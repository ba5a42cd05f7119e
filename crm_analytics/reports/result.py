"""The shape every report query returns and every exporter renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# How a value is typed and shown:
#   text, integer, boolean
#   money     Decimal, shown with two decimals
#   ratio     Decimal already rounded to two decimals (e.g. average_check, days_before)
#   share     Decimal fraction 0..1 rounded to two decimals, shown as a percentage in xlsx/pdf
#   percent   Decimal already in percent units (25.5 means 25.5 %), shown with a % sign
#   date      datetime.date;  timestamp  naive local datetime.datetime
#   list      list[str] (e.g. R4 signals)
#   records   list[dict] (e.g. R5 purchase timeline), nested columns described by `fields`
ColumnKind = Literal[
    "text",
    "integer",
    "boolean",
    "money",
    "ratio",
    "share",
    "percent",
    "date",
    "timestamp",
    "list",
    "records",
]


@dataclass(frozen=True)
class Column:
    name: str  # the machine-readable field name (spec/reports.md), also the json/csv key
    kind: ColumnKind
    label: str | None = None  # human header for xlsx/pdf; defaults to name
    fields: tuple[Column, ...] = ()  # for kind == "records"
    contact: bool = False  # phone/email: only ever present for the manager role

    @property
    def header(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Chart:
    """A daily series to draw natively (xlsx) or as bars (pdf)."""

    x: str  # column holding the date
    y: str  # column holding the value
    title: str


@dataclass
class Section:
    key: str  # json key (spec): "summary", "daily", "clients", "rows", "totals", ...
    title: str
    columns: tuple[Column, ...]
    # "record": one object (json object, a two-column sheet); "table": a list of rows
    kind: Literal["record", "table"] = "table"
    rows: list[dict[str, Any]] = field(default_factory=list)  # a record section has one row
    chart: Chart | None = None

    @property
    def record(self) -> dict[str, Any]:
        return self.rows[0] if self.rows else {}


@dataclass
class ReportResult:
    report: str  # "promotions", "chain-clients", "repeat-clients", "promo-codes", ...
    title: str
    params: dict[str, Any]  # as the caller gave them, normalised (json "params")
    role: str  # analyst | manager
    generated_at: datetime
    sections: list[Section]

    @property
    def contains_contacts(self) -> bool:
        return any(c.contact for s in self.sections for c in s.columns)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)
