"""R5 attributed sales (reports.md; seed 004): realizations whose client had an activity in the
`window_days` before the posting, their timelines and the credit per associate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import duckdb

from crm_analytics.reports.base import (
    check_location,
    non_negative_int,
    parse_period,
    period_params,
    placeholders,
    rows,
)
from crm_analytics.reports.errors import ReportError
from crm_analytics.reports.numbers import exact, money, ratio, round2
from crm_analytics.reports.result import Chart, Column, ReportResult, Section

NAME = "attributed-sales"
TITLE = "Attributed sales"

DEFAULT_WINDOW_DAYS = 14
# Mirrors the dbt var max_attribution_window_days: fct_attributed_sales holds no pair further
# apart, so a wider window would silently miss activities.
MAX_WINDOW_DAYS = 30
MICROSECONDS_PER_DAY = 86_400_000_000

SUMMARY_COLUMNS = (
    Column("attributed_sales", "integer", "Attributed sales"),
    Column("attributed_amount", "money", "Attributed amount"),
    Column("related_activities", "integer", "Related activities"),
    Column("activity_types", "integer", "Activity types"),
    Column("total_sales", "integer", "Total sales"),
    Column("total_amount", "money", "Total amount"),
    Column("attributed_share", "ratio", "Attributed share"),
)
BY_TYPE_COLUMNS = (
    Column("activity_type", "text", "Activity type"),
    Column("activities", "integer", "Activities"),
)
DAILY_COLUMNS = (
    Column("date", "date", "Date"),
    Column("attributed_sales", "integer", "Attributed sales"),
    Column("attributed_amount", "money", "Attributed amount"),
)
TIMELINE_FIELDS = (
    Column("activity_id", "text", "Activity id"),
    Column("occurred_at", "timestamp", "Occurred at"),
    Column("activity_type", "text", "Activity type"),
    Column("associate_id", "text", "Associate id"),
    Column("associate_name", "text", "Associate"),
    Column("days_before", "ratio", "Days before"),
)
PURCHASE_COLUMNS = (
    Column("sale_id", "text", "Sale id"),
    Column("posted_at", "timestamp", "Purchase date"),
    Column("chain_client_id", "text", "Client id"),
    Column("client_name", "text", "Client"),
    Column("amount", "money", "Amount"),
    Column("activities", "integer", "Activities"),
    Column("timeline", "records", "Timeline", fields=TIMELINE_FIELDS),
)
ASSOCIATE_COLUMNS = (
    Column("associate_id", "text", "Associate id"),
    Column("associate_name", "text", "Associate"),
    Column("last_touch_sales", "integer", "Last-touch sales"),
    Column("last_touch_amount", "money", "Last-touch amount"),
    Column("linear_amount", "money", "Linear amount"),
)

# Activity/sale pairs inside the window, sale by sale in absolute time, each sale's
# activities oldest first: the last pair of a sale is its last touch.
_PAIRS_QUERY = """
select
    pairs.sale_id,
    pairs.posted_at,
    pairs.chain_client_id,
    dim_clients.client_name,
    pairs.amount,
    pairs.activity_id,
    pairs.occurred_at,
    pairs.activity_type,
    pairs.associate_id,
    pairs.associate_name,
    pairs.elapsed_microseconds
from marts.fct_attributed_sales as pairs
left join marts.dim_clients on pairs.chain_client_id = dim_clients.chain_client_id
where pairs.posted_at >= ? and pairs.posted_at < ?
    and pairs.elapsed_microseconds between 0 and ?
    {filters}
order by
    pairs.posted_at_utc,
    pairs.sale_id,
    pairs.occurred_at_utc,
    pairs.activity_id
"""

_TOTALS_QUERY = """
select count(*) as total_sales, sum(amount) as total_amount
from marts.fct_sales
where chain_client_id is not null
    and posted_at >= ? and posted_at < ?
    {filters}
"""


def normalize_activity_type(value: str) -> str:
    """As staging does: lower-case, each run of non letters/digits -> '_', edges stripped."""
    text = value.lower()
    out: list[str] = []
    for char in text:
        if char.isalnum():
            out.append(char)
        elif not out or out[-1] != "_":
            out.append("_")
    return "".join(out).strip("_")


def _activity_types(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    # An empty list filters nothing out, like an option not given.
    return list(dict.fromkeys(normalize_activity_type(v) for v in values)) or None


def _window_days(value: Any) -> int:
    days = non_negative_int(value, "--window-days")
    if days > MAX_WINDOW_DAYS:
        raise ReportError(
            f"--window-days must be at most {MAX_WINDOW_DAYS} (the attribution mart keeps "
            f"activities up to {MAX_WINDOW_DAYS} days before a sale), got {days}"
        )
    return days


@dataclass
class _Credit:
    associate_name: str | None = None
    last_touch_sales: int = 0
    last_touch_amount: Decimal = field(default_factory=lambda: money(None))
    linear_amount: Fraction = field(default_factory=Fraction)


def _associates(purchases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    credits: dict[str | None, _Credit] = {}
    for purchase in purchases:
        timeline = purchase["timeline"]
        share = exact(purchase["amount"]) / len(timeline)
        for activity in timeline:
            credit = credits.setdefault(activity["associate_id"], _Credit())
            credit.associate_name = activity["associate_name"]
            credit.linear_amount += share
        # Oldest first with activity_id breaking ties: the last one is the latest touch.
        last = credits[timeline[-1]["associate_id"]]
        last.last_touch_sales += 1
        last.last_touch_amount += purchase["amount"]
    ordered = sorted(
        credits.items(),
        key=lambda item: (-item[1].last_touch_amount, item[0] is None, item[0] or ""),
    )
    return [
        {
            "associate_id": associate_id,
            "associate_name": credit.associate_name,
            "last_touch_sales": credit.last_touch_sales,
            "last_touch_amount": credit.last_touch_amount,
            "linear_amount": round2(credit.linear_amount),
        }
        for associate_id, credit in ordered
    ]


def run(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any], role: str, generated_at: datetime
) -> ReportResult:
    period = parse_period(params.get("from"), params.get("to"))
    window_days = _window_days(params.get("window_days", DEFAULT_WINDOW_DAYS))
    store = params.get("store")
    if store is not None:
        check_location(con, store, "--store")
    associate = params.get("associate")
    activity_types = _activity_types(params.get("activity_types"))

    # Only fixed fragments are chosen here; every value is bound.
    store_bound: list[Any] = [] if store is None else [store]
    pair_filters = [] if store is None else ["and pairs.location_id = ?"]
    pair_bound: list[Any] = [period.start, period.end, window_days * MICROSECONDS_PER_DAY]
    pair_bound += store_bound
    if associate is not None:
        pair_filters.append("and pairs.associate_id = ?")
        pair_bound.append(associate)
    if activity_types is not None:
        pair_filters.append(f"and pairs.activity_type in ({placeholders(activity_types)})")
        pair_bound += activity_types
    pairs = rows(con, _PAIRS_QUERY.format(filters="\n    ".join(pair_filters)), pair_bound)
    (totals,) = rows(
        con,
        _TOTALS_QUERY.format(filters="" if store is None else "and location_id = ?"),
        [period.start, period.end, *store_bound],
    )

    purchases: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        purchase = purchases.setdefault(
            pair["sale_id"],
            {
                "sale_id": pair["sale_id"],
                "posted_at": pair["posted_at"],
                "chain_client_id": pair["chain_client_id"],
                "client_name": pair["client_name"],
                "amount": money(pair["amount"]),
                "activities": 0,
                "timeline": [],
            },
        )
        purchase["activities"] += 1
        purchase["timeline"].append(
            {
                "activity_id": pair["activity_id"],
                "occurred_at": pair["occurred_at"],
                "activity_type": pair["activity_type"],
                "associate_id": pair["associate_id"],
                "associate_name": pair["associate_name"],
                "days_before": round2(Fraction(pair["elapsed_microseconds"], MICROSECONDS_PER_DAY)),
            }
        )
    purchase_rows = list(purchases.values())

    activity_type_of = {pair["activity_id"]: pair["activity_type"] for pair in pairs}
    per_type: dict[str, int] = {}
    for activity_type in activity_type_of.values():
        per_type[activity_type] = per_type.get(activity_type, 0) + 1
    by_type = [
        {"activity_type": activity_type, "activities": count}
        for activity_type, count in sorted(per_type.items(), key=lambda item: (-item[1], item[0]))
    ]

    daily: dict[date, dict[str, Any]] = {}
    for purchase in purchase_rows:
        day = purchase["posted_at"].date()
        row = daily.setdefault(
            day, {"date": day, "attributed_sales": 0, "attributed_amount": money(None)}
        )
        row["attributed_sales"] += 1
        row["attributed_amount"] += purchase["amount"]

    attributed_amount = sum((p["amount"] for p in purchase_rows), money(None))
    total_amount = money(totals["total_amount"])
    summary = {
        "attributed_sales": len(purchase_rows),
        "attributed_amount": attributed_amount,
        "related_activities": len(activity_type_of),
        "activity_types": len(per_type),
        "total_sales": totals["total_sales"],
        "total_amount": total_amount,
        "attributed_share": round2(ratio(attributed_amount, total_amount)),
    }
    return ReportResult(
        report=NAME,
        title=TITLE,
        params={
            **period_params(period),
            "window_days": window_days,
            "store": store,
            "associate": associate,
            "activity_types": activity_types,
        },
        role=role,
        generated_at=generated_at,
        sections=[
            Section("summary", "Summary", SUMMARY_COLUMNS, kind="record", rows=[summary]),
            Section("by_type", "Related activities by type", BY_TYPE_COLUMNS, rows=by_type),
            Section(
                "daily",
                "Attributed sales per day",
                DAILY_COLUMNS,
                rows=[daily[day] for day in sorted(daily)],
                chart=Chart(x="date", y="attributed_sales", title="Attributed sales per day"),
            ),
            Section("purchases", "Purchases", PURCHASE_COLUMNS, rows=purchase_rows),
            Section(
                "associates",
                "Credit per associate",
                ASSOCIATE_COLUMNS,
                rows=_associates(purchase_rows),
            ),
        ],
    )
