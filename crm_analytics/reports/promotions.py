"""R1 promotions (reports.md; seed 000): promo visits at one location, new/old/reactivated
clients, returns, earnings, specialists and the non-returners list."""

from __future__ import annotations

from datetime import datetime, timedelta
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
from crm_analytics.reports.numbers import money
from crm_analytics.reports.result import Chart, Column, ReportResult, Section

NAME = "promotions"
TITLE = "Promotions"
ANALYSED_TYPES = ("fixed_discount", "fixed_cashback_sold", "fixed_cashback_paid")

SUMMARY_COLUMNS = tuple(
    Column(name, "integer", label)
    for name, label in (
        ("promo_visits", "Promo visits"),
        ("promo_clients", "Promo clients"),
        ("new_clients", "New clients"),
        ("old_clients", "Old clients"),
        ("reactivated_clients", "Reactivated clients"),
        ("returned_clients", "Returned clients"),
        ("regular_clients", "Regular clients"),
        ("non_returners", "Non-returners"),
        ("new_returned_clients", "New clients who returned"),
    )
)
DAILY_COLUMNS = (Column("date", "date", "Date"), Column("promo_visits", "integer", "Promo visits"))
EARNINGS_COLUMNS = (
    Column("promo_revenue", "money", "Promo revenue"),
    Column("repeat_revenue", "money", "Repeat revenue"),
    Column("total_revenue", "money", "Total revenue"),
)
SPECIALIST_COLUMNS = (
    Column("specialist_id", "text", "Specialist id"),
    Column("specialist_name", "text", "Specialist"),
    Column("promo_clients", "integer", "Promo clients"),
    Column("returned_clients", "integer", "Returned"),
    Column("returned_to_specialist", "integer", "Returned to specialist"),
)
NON_RETURNER_COLUMNS = (
    Column("chain_client_id", "text", "Client id"),
    Column("client_name", "text", "Client"),
    Column("phone", "text", "Phone", contact=True),
    Column("email", "text", "Email", contact=True),
    Column("registered_at", "timestamp", "Registered"),
    Column("last_visit_at", "timestamp", "Last visit"),
    Column("paid_for_promotion", "money", "Paid for promotion"),
    Column("balance", "money", "Balance"),
)

# Shared CTEs. Parameters, in order: location, promotion types..., period start, period end.
_BASE = """
with

visits as (
    select visit_id, chain_client_id, visited_at, visited_at_utc, visit_date
    from marts.fct_visits
    where is_arrived and location_id = ?
),

promo_visit_ids as (
    select distinct visit_id
    from marts.fct_appointments
    where status = 'arrived' and promotion_type in ({types})
),

promo_visits as (
    select visits.*
    from visits
    inner join promo_visit_ids on visits.visit_id = promo_visit_ids.visit_id
    where visits.visited_at >= ? and visits.visited_at < ?
),

promo_clients as (
    select
        chain_client_id,
        min(visited_at_utc) as first_promo_utc,
        max(visited_at_utc) as last_promo_utc
    from promo_visits
    where chain_client_id is not null
    group by chain_client_id
)
"""

_CLIENTS = """
select
    promo_clients.chain_client_id,
    promo_clients.first_promo_utc,
    max(case when visits.visited_at_utc < promo_clients.first_promo_utc
        then visits.visited_at_utc end) as prior_visit_utc,
    count(case when visits.visited_at_utc > promo_clients.last_promo_utc
        then 1 end) as visits_after
from promo_clients
inner join visits on promo_clients.chain_client_id = visits.chain_client_id
group by promo_clients.chain_client_id, promo_clients.first_promo_utc
"""

_DAILY = """
select visit_date as date, count(*) as promo_visits
from promo_visits
group by visit_date
order by visit_date
"""

_EARNINGS = """
select
    (select sum(amount) from marts.fct_sales
     where visit_id in (select visit_id from promo_visits)) as promo_revenue,
    (select sum(sales.amount)
     from marts.fct_sales as sales
     inner join promo_clients on sales.chain_client_id = promo_clients.chain_client_id
     where sales.location_id = ?
        and sales.posted_at_utc > promo_clients.last_promo_utc
        and (sales.visit_id is null
             or sales.visit_id not in (select visit_id from promo_visits))) as repeat_revenue
"""

_SPECIALISTS = """
, promo_specialist_clients as (
    select distinct appointments.specialist_id, promo_visits.chain_client_id
    from promo_visits
    inner join marts.fct_appointments as appointments
        on appointments.visit_id = promo_visits.visit_id and appointments.status = 'arrived'
    where promo_visits.chain_client_id is not null and appointments.specialist_id is not null
),

returned_to_specialist as (
    select distinct promo_specialist_clients.specialist_id, promo_specialist_clients.chain_client_id
    from promo_specialist_clients
    inner join promo_clients
        on promo_specialist_clients.chain_client_id = promo_clients.chain_client_id
    inner join visits
        on visits.chain_client_id = promo_clients.chain_client_id
        and visits.visited_at_utc > promo_clients.last_promo_utc
    inner join marts.fct_appointments as appointments
        on appointments.visit_id = visits.visit_id
        and appointments.status = 'arrived'
        and appointments.specialist_id = promo_specialist_clients.specialist_id
)

select
    promo_specialist_clients.specialist_id,
    promo_specialist_clients.chain_client_id,
    returned_to_specialist.chain_client_id is not null as returned_to_specialist,
    dim_specialists.specialist_name
from promo_specialist_clients
left join returned_to_specialist
    on promo_specialist_clients.specialist_id = returned_to_specialist.specialist_id
    and promo_specialist_clients.chain_client_id = returned_to_specialist.chain_client_id
left join marts.dim_specialists
    on promo_specialist_clients.specialist_id = dim_specialists.specialist_id
"""

_NON_RETURNER_DETAILS = """
, paid as (
    select promo_visits.chain_client_id, sum(sales.amount) as paid_for_promotion
    from promo_visits
    inner join marts.fct_sales as sales on sales.visit_id = promo_visits.visit_id
    where promo_visits.chain_client_id is not null
    group by promo_visits.chain_client_id
),

latest_visits as (
    select chain_client_id, arg_max(visited_at, visited_at_utc) as last_visit_at
    from visits
    group by chain_client_id
)

select
    promo_clients.chain_client_id,
    dim_clients.client_name,
    dim_clients.phone,
    dim_clients.email,
    dim_clients.registered_at,
    latest_visits.last_visit_at,
    paid.paid_for_promotion,
    dim_clients.balance
from promo_clients
left join marts.dim_clients
    on promo_clients.chain_client_id = dim_clients.chain_client_id
left join latest_visits on promo_clients.chain_client_id = latest_visits.chain_client_id
left join paid on promo_clients.chain_client_id = paid.chain_client_id
"""


def _promotion_types(value: str | None) -> tuple[str, ...]:
    chosen = (value or "all").strip().lower()
    if chosen == "all":
        return ANALYSED_TYPES
    if chosen not in ANALYSED_TYPES:
        raise ReportError(
            f"unsupported --promotion-type {value!r}: use all, {', '.join(ANALYSED_TYPES)}"
        )
    return (chosen,)


def run(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any], role: str, generated_at: datetime
) -> ReportResult:
    location = params.get("location")
    if not location:
        raise ReportError("--location is required for the promotions report")
    types = _promotion_types(params.get("promotion_type"))
    period = parse_period(params.get("from"), params.get("to"))
    check_location(con, location)
    reactivation_days = non_negative_int(params.get("reactivation_days", 90), "--reactivation-days")
    regular_min_visits = non_negative_int(
        params.get("regular_min_visits", 2), "--regular-min-visits"
    )

    base = _BASE.format(types=placeholders(types))
    bound = [location, *types, period.start, period.end]

    clients = rows(con, base + _CLIENTS, bound)
    reactivation_gap = timedelta(hours=24 * reactivation_days)
    new, old, reactivated, returned, regular = set(), set(), set(), set(), set()
    for client in clients:
        client_id = client["chain_client_id"]
        prior = client["prior_visit_utc"]
        if prior is None:
            new.add(client_id)
        else:
            old.add(client_id)
            if client["first_promo_utc"] - prior >= reactivation_gap:
                reactivated.add(client_id)
        if client["visits_after"] >= 1:
            returned.add(client_id)
        if client["visits_after"] >= regular_min_visits:
            regular.add(client_id)
    promo_client_ids = {client["chain_client_id"] for client in clients}

    daily = rows(con, base + _DAILY, bound)
    summary = {
        "promo_visits": sum(day["promo_visits"] for day in daily),
        "promo_clients": len(promo_client_ids),
        "new_clients": len(new),
        "old_clients": len(old),
        "reactivated_clients": len(reactivated),
        "returned_clients": len(returned),
        "regular_clients": len(regular),
        "non_returners": len(promo_client_ids - returned),
        "new_returned_clients": len(new & returned),
    }

    (earned,) = rows(con, base + _EARNINGS, [*bound, location])
    earnings = {
        "promo_revenue": money(earned["promo_revenue"]),
        "repeat_revenue": money(earned["repeat_revenue"]),
    }
    earnings["total_revenue"] = earnings["promo_revenue"] + earnings["repeat_revenue"]

    specialists = _specialists(rows(con, base + _SPECIALISTS, bound), returned)

    sections = [
        Section("summary", "Summary", SUMMARY_COLUMNS, kind="record", rows=[summary]),
        Section(
            "daily",
            "Promo visits by day",
            DAILY_COLUMNS,
            rows=daily,
            chart=Chart(x="date", y="promo_visits", title="Promo visits by day"),
        ),
        Section("earnings", "Earnings", EARNINGS_COLUMNS, kind="record", rows=[earnings]),
        Section("specialists", "Work of specialists", SPECIALIST_COLUMNS, rows=specialists),
    ]
    if role == "manager":
        # Contact data: only ever queried for a caller allowed to see it (reports.md, Access).
        details = rows(con, base + _NON_RETURNER_DETAILS, bound)
        non_returners = [row for row in details if row["chain_client_id"] not in returned]
        for row in non_returners:
            row["paid_for_promotion"] = money(row["paid_for_promotion"])
        non_returners.sort(key=_by_name)
        sections.append(
            Section("non_returners", "Non-returners", NON_RETURNER_COLUMNS, rows=non_returners)
        )
    return ReportResult(
        report=NAME,
        title=TITLE,
        params={
            **period_params(period),
            "location": location,
            "promotion_type": params.get("promotion_type") or "all",
            "reactivation_days": reactivation_days,
            "regular_min_visits": regular_min_visits,
        },
        role=role,
        generated_at=generated_at,
        sections=sections,
    )


def _by_name(row: dict[str, Any]) -> tuple:
    name = row.get("client_name")
    return (name is None, name or "", row["chain_client_id"])


def _specialists(pairs: list[dict[str, Any]], returned: set[str]) -> list[dict[str, Any]]:
    per_specialist: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        entry = per_specialist.setdefault(
            pair["specialist_id"],
            {
                "specialist_id": pair["specialist_id"],
                "specialist_name": pair["specialist_name"],
                "promo_clients": 0,
                "returned_clients": 0,
                "returned_to_specialist": 0,
            },
        )
        entry["promo_clients"] += 1
        entry["returned_clients"] += pair["chain_client_id"] in returned
        entry["returned_to_specialist"] += bool(pair["returned_to_specialist"])
    return sorted(
        per_specialist.values(),
        key=lambda e: (
            -e["promo_clients"],
            e["specialist_name"] is None,
            e["specialist_name"] or "",
            e["specialist_id"],
        ),
    )
