"""R4 promo codes (reports.md; seed 003): per code activations, reach, bonuses, budget,
new-customer share, status and signals over activations in the period, plus the activation log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import duckdb

from crm_analytics.reports.base import check_location, parse_period, period_params, rows
from crm_analytics.reports.numbers import exact, money, ratio, round2
from crm_analytics.reports.result import Column, ReportResult, Section

NAME = "promo-codes"
TITLE = "Promo codes"

CODE_COLUMNS = (
    Column("promo_code_id", "text", "Code id"),
    Column("code", "text", "Promo code"),
    Column("campaign", "text", "Campaign"),
    Column("activations", "integer", "Activations"),
    Column("reach", "integer", "Unique customers"),
    Column("bonuses_issued", "money", "Bonuses issued"),
    Column("cost_per_activation", "ratio", "Cost per activation"),
    Column("planned_budget", "money", "Planned budget"),
    Column("budget_variance_pct", "percent", "Budget variance"),
    Column("new_customer_share", "share", "New customers"),
    Column("status", "text", "Status"),
    Column("signals", "list", "Signals"),
)
TOTAL_COLUMNS = (
    Column("codes", "integer", "Codes"),
    Column("activations", "integer", "Activations"),
    Column("bonuses_issued", "money", "Bonuses issued"),
    Column("cost_per_activation", "ratio", "Cost per activation"),
    Column("reach", "integer", "Unique customers"),
)
ACTIVATION_COLUMNS = (
    Column("activation_id", "text", "Activation id"),
    Column("activated_at", "timestamp", "Activated at"),
    Column("code", "text", "Promo code"),
    Column("chain_client_id", "text", "Client id"),
    Column("client_name", "text", "Client"),
    Column("bonus_amount", "money", "Bonus"),
    Column("activation_number", "integer", "Activation no."),
    Column("is_new_customer", "boolean", "New customer"),
)

LEAK_RATIO = 5
GENEROUS_SHARE_OF_AOV = Fraction(1, 2)
VARIANCE_HIGH_PCT = 20

# Every code of the club(s); whether it is listed is decided in Python once the period's
# activations are known (validity overlap or an activation in the period).
_CODES_QUERY = """
select
    codes.promo_code_id,
    codes.code,
    codes.campaign,
    codes.location_id,
    codes.bonus_per_activation,
    codes.planned_activations,
    codes.activation_limit,
    codes.ends_at,
    -- [starts_at, ends_at) overlaps [from, to); a null ends_at is open-ended
    codes.starts_at < ? and (codes.ends_at is null or codes.ends_at > ?) as overlaps_period,
    -- status is as of `to` over all loaded activations, not only the period's
    (
        select count(*)
        from marts.fct_promo_activations as activations
        where activations.promo_code_id = codes.promo_code_id
            and activations.activated_at < ?
    ) as activations_before_to
from marts.dim_promo_codes as codes
where true
    {location_filter}
order by codes.code, codes.promo_code_id
"""

# The period's activations of the club(s)' codes: an activation whose code has no current
# record belongs to no club, so it is not a row of any code.
_ACTIVATIONS_QUERY = """
select
    activations.activation_id,
    activations.activated_at,
    activations.promo_code_id,
    codes.code,
    activations.chain_client_id,
    dim_clients.client_name,
    activations.bonus_amount,
    activations.activation_number,
    activations.is_new_customer
from marts.fct_promo_activations as activations
inner join marts.dim_promo_codes as codes
    on activations.promo_code_id = codes.promo_code_id
left join marts.dim_clients on activations.chain_client_id = dim_clients.chain_client_id
where activations.activated_at >= ? and activations.activated_at < ?
    {location_filter}
-- ties in time fall back to client_name, then the id (reports.md common rules)
order by
    activations.activated_at_utc, dim_clients.client_name asc nulls last, activations.activation_id
"""

# AOV per club: positive realizations posted in the period, anonymous ones included.
_AOV_QUERY = """
select location_id, sum(amount) as amount, count(*) as realizations
from marts.fct_sales
where amount > 0 and posted_at >= ? and posted_at < ?
    {location_filter}
group by location_id
"""


@dataclass
class _CodeActivity:
    activations: int = 0
    bonuses: Decimal = field(default_factory=lambda: money(None))
    clients: set[str] = field(default_factory=set)
    new_clients: int = 0


def _status(code: dict[str, Any], to: datetime) -> str:
    limit = code["activation_limit"]
    if limit is not None and code["activations_before_to"] >= limit:
        return "limit_reached"
    if code["ends_at"] is not None and code["ends_at"] <= to:
        return "ended"
    return "active"


def _signals(
    *,
    activity: _CodeActivity,
    cost: Fraction | None,
    aov: Fraction | None,
    planned: Decimal | None,
    variance: Fraction | None,
    status: str,
    ends_at: datetime | None,
    to: datetime,
) -> list[str]:
    """In the spec's order, on exact values: a rounded 500.00 cost may still exceed 500."""
    reach = len(activity.clients)
    signals = []
    if reach > 0 and activity.activations >= LEAK_RATIO * reach:
        signals.append("leak_suspected")
    if cost is not None and aov is not None and cost > GENEROUS_SHARE_OF_AOV * aov:
        signals.append("too_generous")
    if planned is not None and activity.bonuses > planned:
        signals.append("over_budget")
    if variance is not None and variance > VARIANCE_HIGH_PCT:
        signals.append("variance_high")
    if status == "limit_reached" and (ends_at is None or ends_at > to):
        signals.append("limit_reached_early")
    return signals


def run(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any], role: str, generated_at: datetime
) -> ReportResult:
    period = parse_period(params.get("from"), params.get("to"))
    assert period.start is not None and period.end is not None  # required=True
    location = params.get("location")
    if location is not None:
        check_location(con, location)

    location_bound: list[Any] = [] if location is None else [location]

    def location_filter(column: str) -> str:
        return "" if location is None else f"and {column} = ?"

    codes = rows(
        con,
        _CODES_QUERY.format(location_filter=location_filter("codes.location_id")),
        [period.end, period.start, period.end, *location_bound],
    )
    found = rows(
        con,
        _ACTIVATIONS_QUERY.format(location_filter=location_filter("codes.location_id")),
        [period.start, period.end, *location_bound],
    )
    aov_by_location = {
        row["location_id"]: ratio(row["amount"], row["realizations"])
        for row in rows(
            con,
            _AOV_QUERY.format(location_filter=location_filter("location_id")),
            [period.start, period.end, *location_bound],
        )
    }

    by_code: dict[str, _CodeActivity] = {}
    for activation in found:
        activity = by_code.setdefault(activation["promo_code_id"], _CodeActivity())
        activity.activations += 1
        activity.bonuses += activation["bonus_amount"]
        client = activation["chain_client_id"]
        if client not in activity.clients:
            # Rows come in time order, so this is the client's first activation of the code
            # in the period; its flag says whether they had a realization there before it.
            activity.clients.add(client)
            if activation["is_new_customer"]:
                activity.new_clients += 1

    code_rows = []
    for code in codes:
        if not code["overlaps_period"] and code["promo_code_id"] not in by_code:
            continue
        activity = by_code.get(code["promo_code_id"], _CodeActivity())
        cost = ratio(activity.bonuses, activity.activations)
        planned = (
            None
            if code["bonus_per_activation"] is None or code["planned_activations"] is None
            else money(code["bonus_per_activation"]) * code["planned_activations"]
        )
        variance = (
            None
            if planned is None
            else ratio((exact(activity.bonuses) - exact(planned)) * 100, planned)
        )
        status = _status(code, period.end)
        code_rows.append(
            {
                "promo_code_id": code["promo_code_id"],
                "code": code["code"],
                "campaign": code["campaign"],
                "activations": activity.activations,
                "reach": len(activity.clients),
                "bonuses_issued": activity.bonuses,
                "cost_per_activation": round2(cost),
                "planned_budget": planned,
                "budget_variance_pct": round2(variance),
                "new_customer_share": round2(ratio(activity.new_clients, len(activity.clients))),
                "status": status,
                "signals": _signals(
                    activity=activity,
                    cost=cost,
                    aov=aov_by_location.get(code["location_id"]),
                    planned=planned,
                    variance=variance,
                    status=status,
                    ends_at=code["ends_at"],
                    to=period.end,
                ),
            }
        )

    activations = sum(activity.activations for activity in by_code.values())
    bonuses = sum((activity.bonuses for activity in by_code.values()), money(None))
    totals = {
        "codes": len(by_code),
        "activations": activations,
        "bonuses_issued": bonuses,
        "cost_per_activation": round2(ratio(bonuses, activations)),
        "reach": len(set().union(*(activity.clients for activity in by_code.values()))),
    }
    activation_rows = [
        {column.name: activation[column.name] for column in ACTIVATION_COLUMNS}
        for activation in found
    ]
    return ReportResult(
        report=NAME,
        title=TITLE,
        params={**period_params(period), "location": location},
        role=role,
        generated_at=generated_at,
        sections=[
            Section("codes", "Promo codes", CODE_COLUMNS, rows=code_rows),
            Section("totals", "Totals", TOTAL_COLUMNS, kind="record", rows=[totals]),
            Section("activations", "Activations", ACTIVATION_COLUMNS, rows=activation_rows),
        ],
    )
