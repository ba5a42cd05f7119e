"""R3 repeat clients (reports.md; seed 002): deals per client over realizations posted in the
period, their sum and the average check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from crm_analytics.reports.base import (
    check_location,
    non_negative_int,
    parse_period,
    period_params,
    rows,
)
from crm_analytics.reports.numbers import money, ratio, round2
from crm_analytics.reports.result import Column, ReportResult, Section

NAME = "repeat-clients"
TITLE = "Repeat clients"

ROW_COLUMNS = (
    Column("chain_client_id", "text", "Client id"),
    Column("client_name", "text", "Client"),
    Column("deals", "integer", "Deals"),
    Column("sales_total", "money", "Sales total"),
    Column("average_check", "ratio", "Average check"),
)
TOTAL_COLUMNS = (
    Column("clients", "integer", "Clients"),
    Column("deals", "integer", "Deals"),
    Column("sales_total", "money", "Sales total"),
    Column("average_check", "ratio", "Average check"),
)

_QUERY = """
with

realizations as (
    select chain_client_id, deal_key, amount
    from marts.fct_sales
    where chain_client_id is not null
        and posted_at >= ? and posted_at < ?
        {location_filter}
),

per_client as (
    select
        chain_client_id,
        count(distinct deal_key) as deals,
        sum(amount) as sales_total
    from realizations
    group by chain_client_id
)

select
    per_client.chain_client_id,
    dim_clients.client_name,
    per_client.deals,
    per_client.sales_total
from per_client
left join marts.dim_clients on per_client.chain_client_id = dim_clients.chain_client_id
where per_client.deals >= ?
order by
    per_client.deals desc,
    per_client.sales_total desc,
    dim_clients.client_name asc nulls last,
    per_client.chain_client_id asc
"""


def run(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any], role: str, generated_at: datetime
) -> ReportResult:
    period = parse_period(params.get("from"), params.get("to"))
    location = params.get("location")
    if location is not None:
        check_location(con, location)
    min_deals = non_negative_int(params.get("min_deals", 2), "--min-deals")

    bound: list[Any] = [period.start, period.end]
    location_filter = ""
    if location is not None:
        location_filter = "and location_id = ?"
        bound.append(location)
    bound.append(min_deals)
    found = rows(con, _QUERY.format(location_filter=location_filter), bound)

    for row in found:
        row["sales_total"] = money(row["sales_total"])
        row["average_check"] = round2(ratio(row["sales_total"], row["deals"]))
    deals = sum(row["deals"] for row in found)
    sales_total = sum((row["sales_total"] for row in found), money(None))
    totals = {
        "clients": len(found),
        "deals": deals,
        "sales_total": sales_total,
        "average_check": round2(ratio(sales_total, deals)),
    }
    return ReportResult(
        report=NAME,
        title=TITLE,
        params={**period_params(period), "location": location, "min_deals": min_deals},
        role=role,
        generated_at=generated_at,
        sections=[
            Section("rows", "Repeat clients", ROW_COLUMNS, rows=found),
            Section("totals", "Totals", TOTAL_COLUMNS, kind="record", rows=[totals]),
        ],
    )
