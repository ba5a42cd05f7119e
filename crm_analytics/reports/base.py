"""What every report query shares: the published warehouse, parameters, periods, access."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from crm_analytics.config import duckdb_settings
from crm_analytics.reports.errors import ReportError

ROLES = ("analyst", "manager")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?")


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only (a refresh renames a new file over it)."""
    if not warehouse.is_file():
        raise ReportError(
            f"no published warehouse at {warehouse}: run `crm-analytics refresh` first"
        )
    # bounded like the refresh: a million-client report must not take the machine's memory
    return duckdb.connect(str(warehouse), read_only=True, config=duckdb_settings())


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def parse_timestamp(value: str, option: str) -> datetime:
    """`YYYY-MM-DDTHH:MM` or `YYYY-MM-DD` (midnight), local wall-clock time."""
    text = value.strip()
    if not _TIMESTAMP.fullmatch(text):
        raise ReportError(f"{option} must be YYYY-MM-DDTHH:MM or YYYY-MM-DD, got {value!r}")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{option} is not a valid date/time: {value!r}") from None


@dataclass(frozen=True)
class Period:
    """`[start, end)` in the local time of the rows' locations."""

    start: datetime | None
    end: datetime | None


def parse_period(
    start: str | None,
    end: str | None,
    *,
    names: tuple[str, str] = ("--from", "--to"),
    required: bool = True,
) -> Period:
    if required and (start is None or end is None):
        raise ReportError(f"{names[0]} and {names[1]} are required for this report")
    period = Period(
        parse_timestamp(start, names[0]) if start is not None else None,
        parse_timestamp(end, names[1]) if end is not None else None,
    )
    if period.start is not None and period.end is not None and period.end <= period.start:
        raise ReportError(f"{names[1]} must be after {names[0]}")
    return period


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ReportError(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
    return role


def check_location(
    con: duckdb.DuckDBPyConnection, location: str, option: str = "--location"
) -> str:
    """A location is known when the chain has it or any fact of the warehouse names it."""
    (known,) = con.execute(
        """
        select count(*) > 0 from (
            select location_id from marts.dim_locations
            union all select location_id from marts.fct_visits
            union all select location_id from marts.fct_sales
            union all select location_id from marts.dim_promo_codes
        ) where location_id = ?
        """,
        [location],
    ).fetchone()
    if not known:
        raise ReportError(f"unknown location {location!r} ({option})")
    return location


def non_negative_int(value: Any, option: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ReportError(f"{option} must be a whole number, got {value!r}") from None
    if number < 0:
        raise ReportError(f"{option} must not be negative, got {number}")
    return number


def period_params(period: Period) -> dict[str, Any]:
    return {"from": period.start, "to": period.end}


def placeholders(values: Iterable[Any]) -> str:
    """`?, ?, ?` for an IN list whose values are bound, never formatted into the SQL."""
    return ", ".join("?" for _ in values)
