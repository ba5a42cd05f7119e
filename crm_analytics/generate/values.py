"""Typed values -> the spellings one extract file uses for them.

Rows are built with typed values (datetime in the row's local wall-clock time, money as
integer kopecks, bool, int, date, str). Each file picks a style, the way each source system
has its own habits, and converters turn a row into cells for CSV, xlsx or JSON (bad
values are put into cells after conversion, see corrupt.py). Converters are chosen per
style up front and are null-safe, because they run for every cell of millions of rows.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

Converter = Callable[[Any, int], Any]

TS_STYLES = ("min", "sec", "frac", "offset", "offset_compact", "z", "ru", "ru_sec")
MONEY_STYLES = ("dot", "comma", "grouped", "grouped_nbsp", "short")
BOOL_PAIRS = (
    ("true", "false"),
    ("1", "0"),
    ("yes", "no"),
    ("Y", "N"),
    ("да", "нет"),
    ("TRUE", "FALSE"),
    ("Да", "Нет"),
    ("True", "False"),
)
NBSP = "\u00a0"


@dataclass(frozen=True)
class Style:
    ts: str = "min"
    money: str = "dot"
    bools: tuple[str, str] = ("true", "false")
    dates: str = "iso"  # or "ru"
    json_typed: bool = True  # JSON numbers/booleans rather than strings
    json_omit_nulls: bool = False


def random_style(rng: random.Random, ts_choices: tuple[str, ...] = TS_STYLES) -> Style:
    return Style(
        ts=rng.choice(ts_choices),
        money=rng.choice(MONEY_STYLES),
        bools=rng.choice(BOOL_PAIRS),
        dates=rng.choice(("iso", "iso", "ru")),
        json_typed=rng.random() < 0.8,
        json_omit_nulls=rng.random() < 0.5,
    )


_OFFSETS: dict[tuple[int, bool], str] = {}


def offset_text(minutes: int, colon: bool = True) -> str:
    key = (minutes, colon)
    text = _OFFSETS.get(key)
    if text is None:
        sign = "-" if minutes < 0 else "+"
        hh, mm = divmod(abs(minutes), 60)
        text = f"{sign}{hh:02d}:{mm:02d}" if colon else f"{sign}{hh:02d}{mm:02d}"
        _OFFSETS[key] = text
    return text


def _ru(dt: datetime | None, off: int) -> str | None:
    if dt is None:
        return None
    return f"{dt.day:02d}.{dt.month:02d}.{dt.year} {dt.hour:02d}:{dt.minute:02d}"


def _ru_sec(dt: datetime | None, off: int) -> str | None:
    if dt is None:
        return None
    return f"{dt.day:02d}.{dt.month:02d}.{dt.year} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"


_MINUTE = timedelta(minutes=1)

# Null-safe (`dt and ...`: a datetime is always truthy) so a cell costs one call.
TIMESTAMP_FORMATS: dict[str, Converter] = {
    "min": lambda dt, off: dt and dt.isoformat(" ", "minutes"),
    "sec": lambda dt, off: dt and dt.isoformat("T", "seconds"),
    "frac": lambda dt, off: dt and dt.isoformat("T", "milliseconds"),
    "offset": lambda dt, off: dt and dt.isoformat("T", "seconds") + offset_text(off),
    "offset_compact": lambda dt, off: dt and dt.isoformat(" ", "minutes") + offset_text(off, False),
    "z": lambda dt, off: dt and (dt - _MINUTE * off).isoformat("T", "seconds") + "Z",
    "ru": _ru,
    "ru_sec": _ru_sec,
}


def format_money(kopecks: int, style: str) -> str:
    sign = "-" if kopecks < 0 else ""
    rub, kop = divmod(abs(kopecks), 100)
    if style == "dot":
        return f"{sign}{rub}.{kop:02d}"
    if style == "comma":
        return f"{sign}{rub},{kop:02d}"
    if style in ("grouped", "grouped_nbsp"):
        sep = NBSP if style == "grouped_nbsp" else " "
        return f"{sign}{rub:,}".replace(",", sep) + f",{kop:02d}"
    if style == "short":
        if kop == 0:
            return f"{sign}{rub}"
        return f"{sign}{rub}.{kop:02d}".rstrip("0")
    raise ValueError(style)


def format_date(d: date, style: str) -> str:
    return d.isoformat() if style == "iso" else f"{d.day:02d}.{d.month:02d}.{d.year}"


def _money_number(v: int | None, off: int) -> int | float | None:
    if v is None:
        return None
    return v // 100 if v % 100 == 0 else v / 100


def csv_converters(types: list[str], style: Style) -> list[Converter | None]:
    """Per column: a converter to text, or None when the value is written as is
    (text; the csv module writes None as an empty field)."""
    yes, no = style.bools
    money, dstyle = style.money, style.dates
    table: dict[str, Converter | None] = {
        "text": None,
        "timestamp": TIMESTAMP_FORMATS[style.ts],
        "money": lambda v, off: None if v is None else format_money(v, money),
        "integer": lambda v, off: None if v is None else str(v),
        "boolean": lambda v, off: None if v is None else yes if v else no,
        "date": lambda v, off: v and format_date(v, dstyle),
    }
    return [table[t] for t in types]


def xlsx_converters(
    types: list[str], style: Style, text_timestamps: bool
) -> list[Converter | None]:
    """Typed cells (datetime, number, bool) as a spreadsheet export has them.

    ``text_timestamps`` makes timestamps text: some exports write dates as strings.
    """
    table: dict[str, Converter | None] = {
        "text": None,
        "timestamp": TIMESTAMP_FORMATS[style.ts] if text_timestamps else None,
        "money": _money_number,
        "integer": None,
        "boolean": None,
        "date": None,
    }
    return [table[t] for t in types]


def json_converters(types: list[str], style: Style) -> list[Converter | None]:
    """JSON values: numbers and booleans when the file is typed, strings otherwise."""
    yes, no = style.bools
    money, dstyle = style.money, style.dates
    typed = style.json_typed
    table: dict[str, Converter | None] = {
        "text": None,
        "timestamp": TIMESTAMP_FORMATS[style.ts],
        "money": _money_number
        if typed
        else (lambda v, off: None if v is None else format_money(v, money)),
        "integer": None if typed else (lambda v, off: None if v is None else str(v)),
        "boolean": None if typed else (lambda v, off: None if v is None else yes if v else no),
        "date": lambda v, off: v and format_date(v, dstyle),
    }
    return [table[t] for t in types]
