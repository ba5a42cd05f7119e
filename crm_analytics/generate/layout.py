"""Landing layout: which file each entity gets per period, in which format and habits."""

from __future__ import annotations

import random

from crm_analytics.contract import entities

from .values import TS_STYLES, Style, random_style
from .writers import FileOptions, Format, HeaderCase

TRANSACTIONAL = (
    "appointments",
    "deals",
    "sales",
    "promo_activations",
    "activities",
    "sms_messages",
)

# Each source system mostly exports one format; every k-th period (offset r) another one
# lands, so each entity is seen in all three formats across a sample.
_DEFAULT_FORMAT: dict[str, Format] = {"activities": "jsonl"}
_OTHER_FORMATS: dict[str, tuple[tuple[Format, int, int], ...]] = {
    "clients": (("xlsx", 13, 6), ("jsonl", 9, 3)),
    "appointments": (("xlsx", 12, 5), ("jsonl", 10, 7)),
    "deals": (("xlsx", 11, 3), ("jsonl", 8, 6)),
    "sales": (("xlsx", 10, 4), ("jsonl", 15, 9)),
    "promo_activations": (("xlsx", 14, 8), ("jsonl", 7, 2)),
    "activities": (("csv", 4, 1), ("xlsx", 16, 10)),
    "sms_messages": (("jsonl", 3, 0), ("xlsx", 17, 11)),
}

# Timestamp habits of the system each entity comes from.
_SOURCE_TS: dict[str, tuple[str, ...]] = {
    "locations": ("min", "sec", "z"),
    "clients": ("min", "ru", "sec"),
    "appointments": ("min", "ru", "sec", "offset_compact"),
    "deals": ("min", "ru", "sec"),
    "sales": ("sec", "offset", "frac", "z", "ru_sec"),
    "activities": ("z", "offset", "frac"),
    "sms_messages": ("offset", "sec", "min"),
    "promo_activations": ("sec", "ru", "offset_compact"),
}

BAD_ROW_RATE = 0.005
CLEAN_STYLE = Style(ts="sec", money="dot", bools=("true", "false"), dates="iso")


def period_format(entity: str, index: int) -> Format:
    for fmt, every, offset in _OTHER_FORMATS.get(entity, ()):
        if index % every == offset:
            return fmt
    return _DEFAULT_FORMAT.get(entity, "csv")


def without_is_deleted(entity: str) -> tuple[str, ...]:
    return tuple(n for n in entities()[entity].column_names if n != "is_deleted")


def file_options(
    rng: random.Random,
    entity: str,
    fmt: Format,
    messy: bool,
    *,
    columns: tuple[str, ...] | None = None,
    bad_rows: bool = True,
) -> FileOptions:
    """The habits of one file: one style per source system, some rows in another."""
    if not messy:
        return FileOptions(fmt=fmt, style=CLEAN_STYLE, columns=columns)
    style = random_style(rng, _SOURCE_TS.get(entity, TS_STYLES))
    header: HeaderCase = "plain"
    if fmt == "csv" and rng.random() < 0.12:
        header = rng.choice(("title", "upper", "padded"))
    return FileOptions(
        fmt=fmt,
        style=style,
        columns=columns,
        header_case=header,
        bom=fmt == "csv" and rng.random() < 0.2,
        alt_style=random_style(rng),
        alt_rate=0.04,
        bad_rate=BAD_ROW_RATE if bad_rows else 0.0,
        text_timestamps=fmt == "xlsx" and rng.random() < 0.25,
    )


def file_name(stem: str, fmt: Format, suffix: str = "") -> str:
    return f"{stem}{suffix}.{fmt}"
