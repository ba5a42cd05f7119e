"""Kind-aware value conversion shared by every format.

`normalise` turns whatever a query put in a row into one canonical Python value per
column kind; the `*_value` / `*_text` functions render those canonical values for a
format. Keeping the two steps apart means every format rounds and validates alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import Enum
from functools import partial
from pathlib import PurePath
from typing import Any

from crm_analytics.reports.result import Column

CENT = Decimal("0.01")
DECIMAL_KINDS = frozenset({"money", "ratio", "share", "percent"})
NUMERIC_KINDS = DECIMAL_KINDS | {"integer"}
NULL_DISPLAY = "—"
_DEFAULT_PRECISION = 28  # decimal's default context, which round2 relies on


# --- canonical values -------------------------------------------------------------


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got a boolean {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        # repr is the shortest text that round-trips, so 2.345 stays 2.345 instead of
        # its binary expansion 2.34499999..., and half-up rounding behaves as written.
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise TypeError(f"expected a number, got {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def round2(value: Any) -> Decimal:
    """Round half away from zero to two decimals (spec: ratios are rounded this way)."""
    number = to_decimal(value)
    if number.adjusted() < _DEFAULT_PRECISION - 2:
        # fits the default context's precision: no context of its own (a report can
        # round millions of values, and a local context costs more than the rounding)
        rounded = number.quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        with localcontext() as ctx:
            ctx.prec = 60  # quantize raises when the result needs more digits than prec
            rounded = number.quantize(CENT, rounding=ROUND_HALF_UP)
    # -0.00 would print as "-0.00" / -0.0; a zero has no sign in a report
    return rounded if rounded else rounded.copy_abs()


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"expected an integer, got a boolean {value!r}")
    if isinstance(value, int):
        return value
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(f"expected an integer, got {value!r}")
    return int(number)


def to_date(value: Any) -> date:
    if isinstance(value, datetime):
        # a datetime in a date column hides a time the query should have dropped
        raise TypeError(f"expected a date, got a datetime {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise TypeError(f"expected a date, got {type(value).__name__} {value!r}")


def to_timestamp(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    elif not isinstance(value, datetime) and isinstance(value, date):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp, got {type(value).__name__} {value!r}")
    if value.tzinfo is not None:
        # reports carry naive local times; an aware value means a query converted to
        # UTC (or the session zone) somewhere, and printing it would show the wrong hour
        raise ValueError(f"timestamp {value!r} is timezone-aware; expected naive local time")
    return value


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise TypeError(f"expected a boolean, got {type(value).__name__} {value!r}")


def to_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        return [str(item) for item in items]
    raise TypeError(f"expected a list, got {type(value).__name__} {value!r}")


def to_records(value: Any, fields: tuple[Column, ...]) -> list[dict[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"expected a list of records, got {type(value).__name__}")
    records = []
    for item in value:
        if not isinstance(item, Mapping):
            raise TypeError(f"expected a record (mapping), got {type(item).__name__}")
        records.append({f.name: normalise(item.get(f.name), f) for f in fields})
    return records


def normalise(value: Any, column: Column) -> Any:
    """The canonical value of `value` for `column`, or None when missing."""
    if value is None:
        return None
    try:
        return _converter(column)(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"column {column.name!r} ({column.kind}): {exc}") from None


def _converter(column: Column) -> Callable[[Any], Any]:
    kind = column.kind
    if kind in DECIMAL_KINDS:
        return round2
    if kind == "records":
        return partial(to_records, fields=column.fields)
    return _CONVERTERS.get(kind, str)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "integer": to_int,
    "boolean": to_bool,
    "date": to_date,
    "timestamp": to_timestamp,
    "list": to_list,
}


def normalise_row(row: Mapping[str, Any], columns: tuple[Column, ...]) -> list[Any]:
    """Canonical values in column order; a key the row lacks is a missing value."""
    return [normalise(row.get(c.name), c) for c in columns]


def normalise_rows(
    rows: Iterable[Mapping[str, Any]], columns: tuple[Column, ...]
) -> Iterator[list[Any]]:
    """normalise_row over many rows, choosing each column's conversion once (a report can
    hold a million rows)."""
    plan = [(column.name, _converter(column)) for column in columns]
    for row in rows:
        try:
            values = []
            for name, convert in plan:
                value = row.get(name)
                values.append(None if value is None else convert(value))
        except (TypeError, ValueError):
            normalise_row(row, columns)  # raises with the failing column's name
            raise
        yield values


# --- machine formats (json, csv) ---------------------------------------------------


def iso_timestamp(value: datetime) -> str:
    # isoformat, not strftime: the same text for a naive time, in a fifth of the time
    return value.isoformat(timespec="seconds")


def json_number(value: Decimal) -> float:
    # Decimal is not JSON-serialisable; a float of a two-decimal Decimal prints with at
    # most two decimals because repr picks the shortest round-tripping text.
    return float(value)


def json_value(value: Any, column: Column) -> Any:
    """A canonical value as a JSON-ready object."""
    if value is None:
        return None
    if column.kind in DECIMAL_KINDS:
        return json_number(value)
    if column.kind == "timestamp":
        return iso_timestamp(value)
    if column.kind == "date":
        return value.isoformat()
    if column.kind == "records":
        return [{f.name: json_value(rec[f.name], f) for f in column.fields} for rec in value]
    return value


def json_converter(column: Column) -> Callable[[Any], Any]:
    """json_value for one column, chosen once: canonical value -> JSON-ready object."""
    if column.kind in DECIMAL_KINDS:
        return json_number
    if column.kind in ("timestamp", "date", "records"):
        return partial(json_value, column=column)
    return _identity


def _identity(value: Any) -> Any:
    return value


def compact_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def csv_text(value: Any, column: Column) -> str:
    if value is None:
        return ""
    kind = column.kind
    if kind in DECIMAL_KINDS:
        return f"{value:.2f}"
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return iso_timestamp(value)
    if kind == "date":
        return value.isoformat()
    if kind == "list":
        return ",".join(value)
    if kind == "records":
        return compact_json(json_value(value, column))
    return str(value)


def param_json(value: Any) -> Any:
    """A report parameter as a JSON-ready object (same conventions as the sections)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal | float):
        return json_number(round2(value))
    if isinstance(value, datetime):
        return iso_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return param_json(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): param_json(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return [param_json(v) for v in sorted(value, key=str)]
    if isinstance(value, Sequence):
        return [param_json(v) for v in value]
    return str(value)


# --- human formats (xlsx text, pdf) ------------------------------------------------

NBSP = "\u00a0"


def group_thousands(value: Decimal) -> str:
    # Seed 002 shows money as "27 025.00"; a no-break space keeps a number on one line
    return f"{value:,.2f}".replace(",", NBSP)


def display_text(value: Any, column: Column) -> str:
    """A canonical value as people read it (pdf cells, xlsx column widths)."""
    if value is None:
        return NULL_DISPLAY
    kind = column.kind
    if kind == "money":
        return group_thousands(value)
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "share":
        return f"{value * 100:.2f}%"
    if kind == "percent":
        return f"{value:.2f}%"
    if kind == "boolean":
        return "yes" if value else "no"
    if kind == "timestamp":
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == "date":
        return value.isoformat()
    if kind == "list":
        return ", ".join(value)
    if kind == "records":
        return "\n".join(
            " · ".join(display_text(rec[f.name], f) for f in column.fields) for rec in value
        )
    return str(value)


def param_text(value: Any) -> str:
    """A report parameter as people read it."""
    if value is None:
        return NULL_DISPLAY
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return f"{to_decimal(value):f}"
    if isinstance(value, Enum):
        return param_text(value.value)
    if isinstance(value, Mapping):
        return compact_json(param_json(value))
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, str):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(param_text(v) for v in items)
    return str(value)
