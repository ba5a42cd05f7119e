"""R2 chain clients (reports.md; seed 001): the chain client database with search, filters,
sorting and a newsletter audience. Contact data: manager role only."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import duckdb

from crm_analytics.reports.base import Period, parse_period, placeholders, rows
from crm_analytics.reports.errors import ReportError
from crm_analytics.reports.result import Column, ReportResult, Section

NAME = "chain-clients"
TITLE = "Chain clients"
GENDERS = ("male", "female", "unknown")
IMPORTANCES = ("none", "bronze", "silver", "gold")
SORTS = {
    "name": "client_name asc nulls last, chain_client_id asc",
    "spent": "total_spent desc, client_name asc nulls last, chain_client_id asc",
    "visits": "visits desc, client_name asc nulls last, chain_client_id asc",
}

CLIENT_COLUMNS = (
    Column("chain_client_id", "text", "Client id"),
    Column("client_name", "text", "Name"),
    Column("phone", "text", "Phone", contact=True),
    Column("email", "text", "Email", contact=True),
    Column("card_numbers", "text", "Cards"),
    Column("gender", "text", "Gender"),
    Column("importance", "text", "Importance"),
    Column("registered_at", "timestamp", "Registered"),
    Column("balance", "money", "Balance"),
    Column("total_spent", "money", "Spent"),
    Column("visits", "integer", "Visits"),
    Column("last_visit_at", "timestamp", "Last visit"),
    Column("locations_visited", "integer", "Locations visited"),
    Column("location_ids", "list", "Locations"),
    Column("has_online_booking", "boolean", "Online booking"),
    Column("received_sms", "boolean", "Received SMS"),
)
AUDIENCE_COLUMNS = (
    Column("chain_client_id", "text", "Client id"),
    Column("client_name", "text", "Name"),
    Column("phone", "text", "Phone", contact=True),
)

_SELECT = """
select
    chain_client_id, client_name, phone, email, card_numbers, gender, importance,
    registered_at, balance, total_spent, visits, last_visit_at, locations_visited,
    location_ids, has_online_booking, received_sms
from marts.dim_clients as clients
where true
"""
_SEARCH = """
and (
    contains(lower(coalesce(clients.client_name, '')), lower(?))
    or contains(coalesce(clients.email, ''), lower(?))
    {phone}
    or exists (
        select 1 from marts.dim_client_records as records
        where records.chain_client_id = clients.chain_client_id and records.card_number = ?
    )
)
"""
_SEARCH_PHONE = "or contains(regexp_replace(coalesce(clients.phone, ''), '[^0-9]', '', 'g'), ?)"
_LOCATION_GROUP = """
and exists (
    select 1
    from marts.dim_client_records as records
    inner join marts.dim_locations as locations on records.location_id = locations.location_id
    where records.chain_client_id = clients.chain_client_id and locations.location_group = ?
)
"""
_VISITED = """
and exists (
    select 1 from marts.fct_visits as visits
    where visits.chain_client_id = clients.chain_client_id and visits.is_arrived
        and visits.location_id in ({locations})
)
"""
_BOOKED = """
and {negation} exists (
    select 1 from marts.fct_appointments as appointments
    where appointments.chain_client_id = clients.chain_client_id
        and appointments.status <> 'cancelled' {bounds}
)
"""
_SMS = """
and exists (
    select 1 from marts.fct_sms_messages as messages
    where messages.chain_client_id = clients.chain_client_id
        and messages.status <> 'failed' {bounds}
)
"""


def run(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any], role: str, generated_at: datetime
) -> ReportResult:
    if role != "manager":
        raise ReportError(
            "the chain-clients report lists phone numbers and emails: it needs --role manager"
        )
    sql, bound, normalised = _filters(params)
    sql += f"order by {SORTS[normalised['sort']]}"
    clients = rows(con, sql, bound)
    for client in clients:
        ids = client["location_ids"]
        client["location_ids"] = ids.split(",") if ids else []
    sections = [Section("clients", "Chain clients", CLIENT_COLUMNS, rows=clients)]
    if normalised["audience"]:
        audience = [
            {key: client[key] for key in ("chain_client_id", "client_name", "phone")}
            for client in clients
            if client["phone"]
        ]
        sections.append(Section("audience", "Newsletter audience", AUDIENCE_COLUMNS, rows=audience))
    return ReportResult(
        report=NAME,
        title=TITLE,
        params=normalised,
        role=role,
        generated_at=generated_at,
        sections=sections,
    )


def _filters(params: dict[str, Any]) -> tuple[str, list[Any], dict[str, Any]]:
    sql, bound = _SELECT, []
    normalised: dict[str, Any] = {}

    search = (params.get("search") or "").strip()
    normalised["search"] = search or None
    if search:
        digits = "".join(re.findall(r"[0-9]", search))
        phone = _SEARCH_PHONE if len(digits) >= 4 else ""
        sql += _SEARCH.format(phone=phone)
        bound += [search, search, *([digits] if phone else []), search]

    group = params.get("location_group")
    normalised["location_group"] = group
    if group:
        sql += _LOCATION_GROUP
        bound.append(group)

    visited = list(params.get("visited_location") or [])
    normalised["visited_location"] = visited or None
    if visited:
        sql += _VISITED.format(locations=placeholders(visited))
        bound += visited

    gender = params.get("gender")
    normalised["gender"] = _choice(gender, GENDERS, "--gender")
    if gender:
        sql += "and clients.gender = ?\n"
        bound.append(normalised["gender"])

    online = _boolean(params.get("online_booking"), "--online-booking")
    normalised["online_booking"] = online
    if online is not None:
        sql += "and clients.has_online_booking = ?\n"
        bound.append(online)

    importance = [_choice(v, IMPORTANCES, "--importance") for v in params.get("importance") or []]
    normalised["importance"] = importance or None
    if importance:
        sql += f"and clients.importance in ({placeholders(importance)})\n"
        bound += importance

    for name, column, parse, op in (
        ("spent_min", "total_spent", _decimal, ">="),
        ("spent_max", "total_spent", _decimal, "<="),
        ("visits_min", "visits", _integer, ">="),
        ("visits_max", "visits", _integer, "<="),
    ):
        value = parse(params.get(name), "--" + name.replace("_", "-"))
        normalised[name] = value
        if value is not None:
            sql += f"and clients.{column} {op} ?\n"
            bound.append(value)

    for prefix, template, extra in (
        ("booked", _BOOKED, {"negation": ""}),
        ("not_booked", _BOOKED, {"negation": "not"}),
        ("sms", _SMS, {}),
    ):
        column = "messages.sent_at" if prefix == "sms" else "appointments.starts_at"
        period = _optional_period(params, prefix)
        normalised[f"{prefix}_from"] = period.start
        normalised[f"{prefix}_to"] = period.end
        if period.start is None and period.end is None:
            continue
        bounds = ""
        if period.start is not None:
            bounds += f" and {column} >= ?"
            bound.append(period.start)
        if period.end is not None:
            bounds += f" and {column} < ?"
            bound.append(period.end)
        sql += template.format(bounds=bounds, **extra)

    sort = (params.get("sort") or "name").strip().lower()
    normalised["sort"] = _choice(sort, tuple(SORTS), "--sort")
    normalised["audience"] = bool(params.get("audience"))
    return sql, bound, normalised


def _optional_period(params: dict[str, Any], prefix: str) -> Period:
    option = "--" + prefix.replace("_", "-")
    return parse_period(
        params.get(f"{prefix}_from"),
        params.get(f"{prefix}_to"),
        names=(f"{option}-from", f"{option}-to"),
        required=False,
    )


def _choice(value: str | None, allowed: tuple[str, ...], option: str) -> str | None:
    if value is None:
        return None
    chosen = value.strip().lower()
    if chosen not in allowed:
        raise ReportError(f"{option} must be one of {', '.join(allowed)}, got {value!r}")
    return chosen


def _boolean(value: Any, option: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ReportError(f"{option} must be true or false, got {value!r}")
    return text == "true"


def _decimal(value: Any, option: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ReportError(f"{option} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise ReportError(f"{option} must be a number, got {value!r}")
    return number


def _integer(value: Any, option: str) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ReportError(f"{option} must be a whole number, got {value!r}") from None
