"""Benchmark peer: the five reports (spec/reports.md) computed with plain pandas straight
from the landing files (spec/raw-extracts.md), as an analyst would write them.

It shares nothing with the pipeline but the contract's column lists: files are read and
values parsed here, and every report is a handful of merges and groupbys. It serves as the
"straightforward implementation" the pipeline is timed against, and as an independent
second opinion on the numbers.

    python bench/pandas_peer.py --landing DIR NAME --from YYYY-MM-DD --to YYYY-MM-DD \
        [--location ID] [--role manager] [--window-days N] ...
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import numpy as np
import pandas as pd

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm_analytics.contract import ENTITY_NAMES, entities

DEFAULT_TZ = "Europe/Moscow"
DEFAULT_COUNTRY_CODE = "7"
VALID_TZ = available_timezones()
ANALYSED_TYPES = ("fixed_discount", "fixed_cashback_sold", "fixed_cashback_paid")
IMPORTANCE_RANK = {"none": 0, "bronze": 1, "silver": 2, "gold": 3}
GENDERS = {
    "male": "male",
    "m": "male",
    "м": "male",
    "муж": "male",
    "female": "female",
    "f": "female",
    "ж": "female",
    "жен": "female",
}
BOOLEANS = {
    "true": True,
    "1": True,
    "yes": True,
    "y": True,
    "да": True,
    "false": False,
    "0": False,
    "no": False,
    "n": False,
    "нет": False,
}

# ---------------------------------------------------------------------------------------------
# reading files
# ---------------------------------------------------------------------------------------------


def cell_text(value: Any, kind: str) -> str:
    """A typed xlsx cell or JSON value as the text a CSV would have carried."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, datetime):  # also pd.Timestamp
        if pd.isna(value):
            return ""
        if kind == "date" and value.time() == datetime.min.time():
            return value.strftime("%Y-%m-%d")
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + (f".{value.microsecond:06d}" if value.microsecond else "")
    if isinstance(value, date):
        return value.isoformat() if kind == "date" else value.isoformat() + " 00:00:00"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if float(value).is_integer():
            return str(int(value))
        return format(Decimal(repr(float(value))), "f")
    return str(value)


def read_file(path: Path) -> pd.DataFrame | None:
    """One landing file as text columns (None when it cannot be parsed)."""
    try:
        if path.suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if path.suffix == ".jsonl":
            return pd.read_json(path, lines=True, dtype=False, encoding="utf-8-sig")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return pd.read_excel(
                    path, engine="calamine", dtype=object, keep_default_na=False, na_values=[]
                )
            except ImportError:
                return pd.read_excel(
                    path, engine="openpyxl", dtype=object, keep_default_na=False, na_values=[]
                )
    except Exception:  # unparseable: the file is skipped whole
        return None


def read_entity(landing: Path, entity: str) -> pd.DataFrame:
    """Every accepted file of an entity, contract columns as text, in landing order."""
    spec = entities()[entity]
    kinds = {c.name: c.type for c in spec.columns}
    folder = landing / entity
    paths = (
        sorted(
            (
                p
                for p in folder.iterdir()
                if p.is_file() and p.suffix in (".csv", ".xlsx", ".jsonl")
            ),
            key=lambda p: p.name,
        )
        if folder.is_dir()
        else []
    )
    frames, seen = [], set()
    for order, path in enumerate(paths):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:  # the same bytes landed again: already ingested
            continue
        seen.add(digest)
        df = read_file(path)
        if df is None:
            continue
        df.columns = [str(c).strip().lower() for c in df.columns]
        if df.columns.duplicated().any() or not set(spec.required_columns) <= set(df.columns):
            continue
        df = df[[c for c in spec.column_names if c in df.columns]].copy()
        for col in df.columns:
            if path.suffix == ".csv":
                df[col] = df[col].fillna("")
            else:
                df[col] = df[col].map(lambda v, k=kinds[col]: cell_text(v, k)).astype(str)
        df["_file"] = order
        df["_row"] = np.arange(len(df))
        frames.append(df)
    columns = [*spec.column_names, "_file", "_row"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    raw = pd.concat(frames, ignore_index=True)
    for col in spec.column_names:
        if col not in raw.columns:
            raw[col] = ""
    return raw[columns]


# ---------------------------------------------------------------------------------------------
# parsing values
# ---------------------------------------------------------------------------------------------

_TS_ISO = (
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?(?P<off>Z|[+-]\d{2}:?\d{2})?$"
)
_TS_RU = r"^(?P<d>\d{2})\.(?P<mo>\d{2})\.(?P<y>\d{4}) (?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?$"


def parse_timestamp(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(wall-clock datetime, offset in minutes or NaN); invalid -> NaT."""
    iso = text.str.extract(_TS_ISO)
    ru = text.str.extract(_TS_RU)
    parts = iso[["y", "mo", "d", "h", "mi", "s"]].fillna(ru[["y", "mo", "d", "h", "mi", "s"]])
    parts = parts.apply(pd.to_numeric)
    parts["s"] = parts["s"].fillna(0)
    parts["us"] = pd.to_numeric(iso["f"].str.ljust(6, "0")).fillna(0)
    ok = parts["h"].lt(24) & parts["mi"].lt(60) & parts["s"].lt(60)
    wall = pd.to_datetime(
        parts.rename(
            columns={
                "y": "year",
                "mo": "month",
                "d": "day",
                "h": "hour",
                "mi": "minute",
                "s": "second",
                "us": "microsecond",
            }
        ),
        errors="coerce",
    ).where(ok)
    off = iso["off"]
    sign = np.where(off.str.startswith("-"), -1, 1)
    digits = off.str.replace(r"[^0-9]", "", regex=True)
    minutes = pd.to_numeric(digits.str[:2]) * 60 + pd.to_numeric(digits.str[2:4])
    minutes = (minutes * sign).where(off.ne("Z"), 0).where(off.notna())
    return wall.astype("datetime64[us]"), minutes


def parse_date(text: pd.Series) -> pd.Series:
    iso = pd.to_datetime(
        text.where(text.str.match(r"^\d{4}-\d{2}-\d{2}$")), format="%Y-%m-%d", errors="coerce"
    )
    ru = pd.to_datetime(
        text.where(text.str.match(r"^\d{2}\.\d{2}\.\d{4}$")), format="%d.%m.%Y", errors="coerce"
    )
    return iso.fillna(ru).dt.date.where(iso.notna() | ru.notna(), None)


def parse_money(text: pd.Series) -> pd.Series:
    compact = text.str.replace(r"\s", "", regex=True)
    valid = compact.str.fullmatch(r"-?\d+(?:[.,]\d+)?")
    return pd.to_numeric(compact.where(valid).str.replace(",", ".", regex=False))


def parse_integer(text: pd.Series) -> pd.Series:
    return pd.to_numeric(text.where(text.str.fullmatch(r"-?\d+"))).astype("Int64")


def parse_boolean(text: pd.Series) -> pd.Series:
    return text.str.lower().map(BOOLEANS).astype("boolean")


def parse_entity(raw: pd.DataFrame, entity: str) -> pd.DataFrame:
    """Typed columns; rows with a missing or invalid required value are dropped.

    Timestamps stay wall-clock (`<col>`) plus offset (`_off_<col>`) until the row's time
    zone is known (see `localise`).
    """
    spec = entities()[entity]
    df = raw[["_file", "_row"]].copy()
    valid = pd.Series(True, index=raw.index)
    for col in spec.columns:
        text = raw[col.name].astype(str).str.strip()
        present = text.ne("")
        if col.type == "timestamp":
            value, offset = parse_timestamp(text)
            df["_off_" + col.name] = offset
        elif col.type == "date":
            value = parse_date(text)
        elif col.type == "money":
            value = parse_money(text)
        elif col.type == "integer":
            value = parse_integer(text)
        elif col.type == "boolean":
            value = parse_boolean(text)
        elif col.values:
            lowered = text.str.lower()
            value = lowered.where(lowered.isin(col.values))
        else:
            value = text.where(present)
        df[col.name] = value
        if col.required:
            valid &= value.notna()
        if col.required_when_status:
            valid &= value.notna() | df["status"].ne(col.required_when_status)
    df = df[valid].copy()
    if "is_deleted" in df:
        df["is_deleted"] = df["is_deleted"].fillna(False).astype(bool)
    return df


def localise(df: pd.DataFrame, columns: list[str], tz: pd.Series) -> pd.DataFrame:
    """For each timestamp column: `<col>` becomes local wall-clock time in the row's zone,
    `<col>_utc` the instant in UTC (both naive)."""
    for col in columns:
        wall, offset = df[col], df.pop("_off_" + col)
        utc = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
        local = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
        has_offset = offset.notna()
        utc[has_offset] = wall[has_offset] - pd.to_timedelta(offset[has_offset], unit="min")
        for zone in tz.unique():
            in_zone = tz.eq(zone)
            naive = in_zone & ~has_offset
            utc[naive] = (
                wall[naive]
                .dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
                .dt.tz_convert("UTC")
                .dt.tz_localize(None)
            )
            local[in_zone] = (
                utc[in_zone].dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
            )
        df[col] = local
        df[col + "_utc"] = utc
    return df


def current(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """The current version of every key (greatest updated_at, then file, then row), not
    deleted."""
    latest = df.sort_values(["updated_at_utc", "_file", "_row"]).drop_duplicates(key, keep="last")
    return latest[~latest["is_deleted"]].reset_index(drop=True)


def md5(values: pd.Series) -> pd.Series:
    return values.map(lambda v: hashlib.md5(v.encode("utf-8")).hexdigest(), na_action="ignore")


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------


@dataclass
class Tables:
    locations: pd.DataFrame
    clients: pd.DataFrame  # current records with identity and chain_client_id
    specialists: pd.DataFrame
    promotions: pd.DataFrame
    appointments: pd.DataFrame
    deals: pd.DataFrame
    sales: pd.DataFrame
    promo_codes: pd.DataFrame
    promo_activations: pd.DataFrame
    activities: pd.DataFrame
    sms_messages: pd.DataFrame
    chain_clients: pd.DataFrame  # one row per chain client (R2's attributes)
    visits: pd.DataFrame  # one row per visit that happened
    realizations: pd.DataFrame  # posted sales


def timestamp_columns(entity: str) -> list[str]:
    return [c.name for c in entities()[entity].columns if c.type == "timestamp"]


def normalise_phone(phone: pd.Series) -> pd.Series:
    digits = phone.fillna("").str.replace(r"\D", "", regex=True)
    digits = digits.where(
        ~(digits.str.len().eq(11) & digits.str.startswith("8")), "7" + digits.str[1:]
    )
    digits = digits.where(digits.str.len().ne(10), DEFAULT_COUNTRY_CODE + digits)
    return digits.where(digits.str.len().between(11, 15))


def normalise_email(email: pd.Series) -> pd.Series:
    address = email.str.strip().str.lower()
    parts = address.str.split("@")
    valid = (
        address.str.count("@").eq(1)
        & parts.str[0].str.len().gt(0)
        & parts.str[1].str.len().gt(0)
        & parts.str[1].str.contains(".", regex=False)
    )
    return address.where(valid.fillna(False).astype(bool))


def load(landing: Path) -> Tables:
    landing = Path(landing)
    parsed = {e: parse_entity(read_entity(landing, e), e) for e in ENTITY_NAMES}

    # Locations: timestamps without an offset are UTC.
    loc = parsed["locations"]
    loc = current(localise(loc, ["updated_at"], pd.Series("UTC", index=loc.index)), "location_id")
    loc["timezone"] = loc["timezone"].where(loc["timezone"].isin(VALID_TZ), DEFAULT_TZ)
    zone_of_location = loc.set_index("location_id")["timezone"]

    def by_location(df: pd.DataFrame, entity: str, locations: pd.Series) -> pd.DataFrame:
        tz = locations.map(zone_of_location).fillna(DEFAULT_TZ)
        return localise(df, timestamp_columns(entity), tz)

    tables: dict[str, pd.DataFrame] = {"locations": loc}
    for entity in ENTITY_NAMES:
        spec = entities()[entity]
        if spec.timezone_from != "location_id":
            continue
        df = parsed[entity]
        tables[entity] = current(by_location(df, entity, df["location_id"]), spec.key)

    codes, clients = tables["promo_codes"], tables["clients"]
    acts = parsed["promo_activations"]
    acts = by_location(
        acts,
        "promo_activations",
        acts["promo_code_id"].map(codes.set_index("promo_code_id")["location_id"]),
    )
    tables["promo_activations"] = current(acts, "activation_id")
    sms = parsed["sms_messages"]
    sms = by_location(
        sms, "sms_messages", sms["client_id"].map(clients.set_index("client_id")["location_id"])
    )
    tables["sms_messages"] = current(sms, "message_id")

    # Chain-client identity of every current client record.
    clients["phone_norm"] = normalise_phone(clients["phone"])
    clients["email_norm"] = normalise_email(clients["email"])
    clients["identity"] = (
        ("phone:" + clients["phone_norm"])
        .fillna("email:" + clients["email_norm"])
        .fillna("client:" + clients["client_id"])
    )
    clients["chain_client_id"] = md5(clients["identity"])
    chain_of_record = clients.set_index("client_id")["chain_client_id"]

    def chain_id(client_ids: pd.Series) -> pd.Series:
        known = client_ids.map(chain_of_record)
        return known.fillna(md5("client:" + client_ids))

    for entity in (
        "appointments",
        "deals",
        "sales",
        "promo_activations",
        "activities",
        "sms_messages",
    ):
        tables[entity]["chain_client_id"] = chain_id(tables[entity]["client_id"])

    # Visits: appointments sharing visit_id, when at least one arrived.
    appts = tables["appointments"]
    promo_type = tables["promotions"].set_index("promotion_id")["promotion_type"]
    appts["promotion_type"] = appts["promotion_id"].map(promo_type)
    arrived = appts[appts["status"].eq("arrived")].sort_values(["starts_at_utc", "appointment_id"])
    visits = arrived.drop_duplicates("visit_id")[
        ["visit_id", "location_id", "client_id", "chain_client_id", "starts_at", "starts_at_utc"]
    ].rename(columns={"starts_at": "visited_at", "starts_at_utc": "visited_at_utc"})
    visits = visits.reset_index(drop=True)

    sales = tables["sales"]
    realizations = sales[sales["status"].eq("posted")].reset_index(drop=True)

    chain_clients = build_chain_clients(
        clients, visits, realizations, appts, tables["sms_messages"]
    )
    return Tables(
        **tables,
        chain_clients=chain_clients,
        visits=visits,
        realizations=realizations,
    )


def build_chain_clients(clients, visits, realizations, appointments, sms) -> pd.DataFrame:
    """dim_clients: one row per chain client, attributes per raw-extracts.md."""
    recs = clients.sort_values(["updated_at_utc", "client_id"])
    recs["gender"] = recs["gender"].str.lower().map(GENDERS).fillna("unknown")
    recs["importance_rank"] = recs["importance"].str.lower().map(IMPORTANCE_RANK).fillna(0)
    latest = recs.drop_duplicates("chain_client_id", keep="last").set_index("chain_client_id")

    out = pd.DataFrame(index=latest.index)
    out["client_name"] = latest["name"]
    out["phone"] = "+" + latest["phone_norm"].where(latest["identity"].str.startswith("phone:"))
    emails = recs[recs["email_norm"].notna()].drop_duplicates("chain_client_id", keep="last")
    out["email"] = emails.set_index("chain_client_id")["email_norm"]
    cards = recs[recs["card_number"].notna()].groupby("chain_client_id")["card_number"]
    out["card_numbers"] = cards.agg(lambda s: ",".join(sorted(set(s))))
    known = recs[recs["gender"].ne("unknown")].drop_duplicates("chain_client_id", keep="last")
    out["gender"] = known.set_index("chain_client_id")["gender"]
    out["gender"] = out["gender"].fillna("unknown")
    rank = recs.groupby("chain_client_id")["importance_rank"].max()
    out["importance"] = rank.map({v: k for k, v in IMPORTANCE_RANK.items()})
    first = recs.sort_values(["registered_at_utc", "client_id"]).drop_duplicates("chain_client_id")
    out["registered_at"] = first.set_index("chain_client_id")["registered_at"]
    out["balance"] = recs.groupby("chain_client_id")["balance"].sum()
    out["total_spent"] = realizations.groupby("chain_client_id")["amount"].sum()
    out["total_spent"] = out["total_spent"].fillna(0.0)
    v = visits.dropna(subset=["chain_client_id"])
    out["visits"] = v.groupby("chain_client_id").size()
    out["visits"] = out["visits"].fillna(0).astype(int)
    last = v.sort_values("visited_at_utc").drop_duplicates("chain_client_id", keep="last")
    out["last_visit_at"] = last.set_index("chain_client_id")["visited_at"]
    out["locations_visited"] = v.groupby("chain_client_id")["location_id"].nunique()
    out["locations_visited"] = out["locations_visited"].fillna(0).astype(int)
    out["location_ids"] = recs.groupby("chain_client_id")["location_id"].agg(
        lambda s: sorted(set(s))
    )
    online = set(appointments.loc[appointments["is_online"].fillna(False), "chain_client_id"])
    out["has_online_booking"] = out.index.isin(online)
    received = set(sms.loc[sms["status"].ne("failed"), "chain_client_id"])
    out["received_sms"] = out.index.isin(received)
    return out.reset_index()


# ---------------------------------------------------------------------------------------------
# output helpers
# ---------------------------------------------------------------------------------------------


def round2(value: Any) -> float | None:
    """Half away from zero to two decimals (binary noise of float sums dropped first)."""
    if value is None or pd.isna(value):
        return None
    cents = Decimal(repr(round(float(value), 6))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return float(cents) + 0.0


def ratio(numerator: Any, denominator: Any) -> float | None:
    if denominator is None or pd.isna(denominator) or denominator == 0 or pd.isna(numerator):
        return None
    return numerator / denominator


def ts(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else value.strftime("%Y-%m-%dT%H:%M:%S")


def text(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def records(df: pd.DataFrame, formats: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts, columns in the order of `formats` (column -> converter)."""
    rows = []
    for row in df.to_dict("records"):
        rows.append({col: convert(row.get(col)) for col, convert in formats.items()})
    return rows


def whole(value: Any) -> int:
    return int(value)


def name_key(names: pd.Series) -> pd.Series:
    """Sort key for names: nulls last (a character above every other)."""
    return names.fillna("\U0010ffff")


def parse_moment(value: str) -> pd.Timestamp:
    return pd.Timestamp(datetime.fromisoformat(value.strip()))


# ---------------------------------------------------------------------------------------------
# R1 promotions
# ---------------------------------------------------------------------------------------------


def report_promotions(t: Tables, p: dict[str, Any]) -> dict[str, Any]:
    location = p["location"]
    start, end = parse_moment(p["from"]), parse_moment(p["to"])
    chosen = (p.get("promotion_type") or "all").lower()
    types = ANALYSED_TYPES if chosen == "all" else (chosen,)
    reactivation = pd.Timedelta(hours=24 * int(p.get("reactivation_days", 90)))
    regular_min = int(p.get("regular_min_visits", 2))

    appts = t.appointments
    visits = t.visits[t.visits["location_id"].eq(location)]
    promo_ids = appts.loc[
        appts["status"].eq("arrived") & appts["promotion_type"].isin(types), "visit_id"
    ].unique()
    promo = visits[
        visits["visit_id"].isin(promo_ids)
        & visits["visited_at"].ge(start)
        & visits["visited_at"].lt(end)
    ]

    clients = (
        promo.dropna(subset=["chain_client_id"])
        .groupby("chain_client_id")["visited_at_utc"]
        .agg(first_promo="min", last_promo="max")
        .reset_index()
    )
    history = visits.dropna(subset=["chain_client_id"]).merge(clients, on="chain_client_id")
    before = history[history["visited_at_utc"] < history["first_promo"]]
    prior = before.groupby("chain_client_id")["visited_at_utc"].max()
    after = history[history["visited_at_utc"] > history["last_promo"]]
    visits_after = after.groupby("chain_client_id").size()
    clients = clients.merge(prior.rename("prior").reset_index(), how="left")
    clients = clients.merge(visits_after.rename("visits_after").reset_index(), how="left")
    clients["visits_after"] = clients["visits_after"].fillna(0)
    clients["new"] = clients["prior"].isna()
    clients["reactivated"] = ~clients["new"] & (
        clients["first_promo"] - clients["prior"] >= reactivation
    )
    clients["returned"] = clients["visits_after"] >= 1
    clients["regular"] = clients["visits_after"] >= regular_min

    summary = {
        "promo_visits": len(promo),
        "promo_clients": len(clients),
        "new_clients": int(clients["new"].sum()),
        "old_clients": int((~clients["new"]).sum()),
        "reactivated_clients": int(clients["reactivated"].sum()),
        "returned_clients": int(clients["returned"].sum()),
        "regular_clients": int(clients["regular"].sum()),
        "non_returners": int((~clients["returned"]).sum()),
        "new_returned_clients": int((clients["new"] & clients["returned"]).sum()),
    }

    daily = promo.groupby(promo["visited_at"].dt.date).size().sort_index()
    daily_rows = [{"date": d.isoformat(), "promo_visits": int(n)} for d, n in daily.items()]

    sales = t.realizations
    in_promo = sales["visit_id"].isin(promo["visit_id"])
    promo_revenue = sales.loc[in_promo, "amount"].sum()
    later = sales[~in_promo & sales["location_id"].eq(location)].merge(
        clients[["chain_client_id", "last_promo"]], on="chain_client_id"
    )
    repeat_revenue = later.loc[later["posted_at_utc"] > later["last_promo"], "amount"].sum()
    earnings = {
        "promo_revenue": round2(promo_revenue),
        "repeat_revenue": round2(repeat_revenue),
        "total_revenue": round2(promo_revenue + repeat_revenue),
    }

    arrived = appts[appts["status"].eq("arrived") & appts["specialist_id"].notna()]
    pairs = (
        promo.dropna(subset=["chain_client_id"])[["visit_id", "chain_client_id"]]
        .merge(arrived[["visit_id", "specialist_id"]], on="visit_id")
        .drop_duplicates(["specialist_id", "chain_client_id"])
    )
    later_visits = history.loc[
        history["visited_at_utc"] > history["last_promo"], ["visit_id", "chain_client_id"]
    ]
    came_back = (
        later_visits.merge(arrived[["visit_id", "specialist_id"]], on="visit_id")[
            ["specialist_id", "chain_client_id"]
        ]
        .drop_duplicates()
        .assign(returned_to_specialist=True)
    )
    pairs = pairs.merge(came_back, on=["specialist_id", "chain_client_id"], how="left")
    pairs["returned_to_specialist"] = pairs["returned_to_specialist"].fillna(False).astype(bool)
    pairs["returned"] = pairs["chain_client_id"].isin(
        clients.loc[clients["returned"], "chain_client_id"]
    )
    spec = (
        pairs.groupby("specialist_id")
        .agg(
            promo_clients=("chain_client_id", "size"),
            returned_clients=("returned", "sum"),
            returned_to_specialist=("returned_to_specialist", "sum"),
        )
        .reset_index()
    )
    names = t.specialists.set_index("specialist_id")["name"]
    spec["specialist_name"] = spec["specialist_id"].map(names)
    spec = spec.assign(_name=name_key(spec["specialist_name"])).sort_values(
        ["promo_clients", "_name", "specialist_id"], ascending=[False, True, True]
    )

    result = {
        "report": "promotions",
        "params": params_json(
            p,
            ["from", "to", "location", "promotion_type", "reactivation_days", "regular_min_visits"],
        ),
        "summary": summary,
        "daily": daily_rows,
        "earnings": earnings,
        "specialists": records(
            spec,
            {
                "specialist_id": text,
                "specialist_name": text,
                "promo_clients": whole,
                "returned_clients": whole,
                "returned_to_specialist": whole,
            },
        ),
    }
    if p.get("role") == "manager":
        gone = clients[~clients["returned"]][["chain_client_id"]]
        paid = (
            promo.dropna(subset=["chain_client_id"])[["visit_id", "chain_client_id"]]
            .merge(sales[["visit_id", "amount"]], on="visit_id")
            .groupby("chain_client_id")["amount"]
            .sum()
        )
        last_visit = (
            history.sort_values("visited_at_utc")
            .drop_duplicates("chain_client_id", keep="last")
            .set_index("chain_client_id")["visited_at"]
        )
        contacts = ["chain_client_id", "client_name", "phone", "email", "registered_at", "balance"]
        gone = gone.merge(t.chain_clients[contacts], on="chain_client_id", how="left")
        gone = gone.merge(last_visit.rename("last_visit_at").reset_index(), how="left")
        gone = gone.merge(paid.rename("paid_for_promotion").reset_index(), how="left")
        gone["paid_for_promotion"] = gone["paid_for_promotion"].fillna(0.0)
        gone = gone.assign(_name=name_key(gone["client_name"])).sort_values(
            ["_name", "chain_client_id"]
        )
        result["non_returners"] = records(
            gone,
            {
                "chain_client_id": text,
                "client_name": text,
                "phone": text,
                "email": text,
                "registered_at": ts,
                "last_visit_at": ts,
                "paid_for_promotion": round2,
                "balance": round2,
            },
        )
    return result


# ---------------------------------------------------------------------------------------------
# R2 chain clients
# ---------------------------------------------------------------------------------------------


def report_chain_clients(t: Tables, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("role") != "manager":
        raise ValueError("the chain-clients report lists contacts: it needs --role manager")
    df = t.chain_clients.copy()
    sort = (p.get("sort") or "name").lower()
    df["_name"] = name_key(df["client_name"])
    if sort == "spent":
        df = df.sort_values(
            ["total_spent", "_name", "chain_client_id"], ascending=[False, True, True]
        )
    elif sort == "visits":
        df = df.sort_values(["visits", "_name", "chain_client_id"], ascending=[False, True, True])
    else:
        df = df.sort_values(["_name", "chain_client_id"])
    return {
        "report": "chain-clients",
        "params": {"sort": sort},
        "clients": records(
            df,
            {
                "chain_client_id": text,
                "client_name": text,
                "phone": text,
                "email": text,
                "card_numbers": text,
                "gender": text,
                "importance": text,
                "registered_at": ts,
                "balance": round2,
                "total_spent": round2,
                "visits": whole,
                "last_visit_at": ts,
                "locations_visited": whole,
                "location_ids": list,
                "has_online_booking": bool,
                "received_sms": bool,
            },
        ),
    }


# ---------------------------------------------------------------------------------------------
# R3 repeat clients
# ---------------------------------------------------------------------------------------------


def report_repeat_clients(t: Tables, p: dict[str, Any]) -> dict[str, Any]:
    start, end = parse_moment(p["from"]), parse_moment(p["to"])
    min_deals = int(p.get("min_deals", 2))
    s = t.realizations
    s = s[s["client_id"].notna() & s["posted_at"].ge(start) & s["posted_at"].lt(end)]
    if p.get("location"):
        s = s[s["location_id"].eq(p["location"])]
    s = s.assign(deal_key=s["deal_id"].fillna("sale:" + s["sale_id"]))
    per = (
        s.groupby("chain_client_id")
        .agg(deals=("deal_key", "nunique"), sales_total=("amount", "sum"))
        .reset_index()
    )
    per = per[per["deals"] >= min_deals]
    per = per.merge(t.chain_clients[["chain_client_id", "client_name"]], how="left")
    per["_total"] = per["sales_total"].round(6)
    per["_name"] = name_key(per["client_name"])
    per = per.sort_values(
        ["deals", "_total", "_name", "chain_client_id"], ascending=[False, False, True, True]
    )
    per["average_check"] = per["sales_total"] / per["deals"]
    deals, total = int(per["deals"].sum()), per["sales_total"].sum()
    return {
        "report": "repeat-clients",
        "params": params_json(p, ["from", "to", "location", "min_deals"]),
        "rows": records(
            per,
            {
                "chain_client_id": text,
                "client_name": text,
                "deals": whole,
                "sales_total": round2,
                "average_check": round2,
            },
        ),
        "totals": {
            "clients": len(per),
            "deals": deals,
            "sales_total": round2(total),
            "average_check": round2(ratio(total, deals)),
        },
    }


# ---------------------------------------------------------------------------------------------
# R4 promo codes
# ---------------------------------------------------------------------------------------------


def report_promo_codes(t: Tables, p: dict[str, Any]) -> dict[str, Any]:
    start, end = parse_moment(p["from"]), parse_moment(p["to"])
    location = p.get("location")
    codes = t.promo_codes
    if location:
        codes = codes[codes["location_id"].eq(location)]
    acts = t.promo_activations.merge(
        codes[["promo_code_id", "code", "location_id"]], on="promo_code_id"
    )
    # New customer: no realization (by any record of the chain client) at the code's
    # location before the activation.
    sales = t.realizations.dropna(subset=["client_id"])
    first_sale = sales.groupby(["chain_client_id", "location_id"])["posted_at_utc"].min()
    first_sale = first_sale.rename("first_sale_utc").reset_index()
    acts = acts.merge(first_sale, on=["chain_client_id", "location_id"], how="left")
    acts["is_new_customer"] = ~(acts["first_sale_utc"] < acts["activated_at_utc"])
    acts = acts.sort_values(["activated_at_utc", "activation_id"])
    acts["activation_number"] = acts.groupby(["promo_code_id", "chain_client_id"]).cumcount() + 1
    acts = acts.merge(t.chain_clients[["chain_client_id", "client_name"]], how="left")

    found = acts[acts["activated_at"].ge(start) & acts["activated_at"].lt(end)]
    found = found.assign(_name=name_key(found["client_name"])).sort_values(
        ["activated_at_utc", "_name", "activation_id"]
    )
    first_of_client = found.sort_values(["activated_at_utc", "activation_id"]).drop_duplicates(
        ["promo_code_id", "chain_client_id"]
    )
    per_code = found.groupby("promo_code_id").agg(
        activations=("activation_id", "size"),
        reach=("chain_client_id", "nunique"),
        bonuses_issued=("bonus_amount", "sum"),
    )
    per_code["new_clients"] = first_of_client.groupby("promo_code_id")["is_new_customer"].sum()
    before_to = acts[acts["activated_at"].lt(end)].groupby("promo_code_id").size()

    aov_sales = t.realizations[
        t.realizations["amount"].gt(0)
        & t.realizations["posted_at"].ge(start)
        & t.realizations["posted_at"].lt(end)
    ]
    aov = aov_sales.groupby("location_id")["amount"].mean()

    listed = codes[
        (codes["starts_at"].lt(end) & (codes["ends_at"].isna() | codes["ends_at"].gt(start)))
        | codes["promo_code_id"].isin(per_code.index)
    ].sort_values(["code", "promo_code_id"])
    rows = []
    for code in listed.itertuples():
        if code.promo_code_id in per_code.index:
            stats = per_code.loc[code.promo_code_id]
            n, reach = int(stats["activations"]), int(stats["reach"])
            bonuses, new = float(stats["bonuses_issued"]), int(stats["new_clients"])
        else:
            n, reach, bonuses, new = 0, 0, 0.0, 0
        cost = ratio(bonuses, n)
        planned = (
            None
            if pd.isna(code.bonus_per_activation) or pd.isna(code.planned_activations)
            else code.bonus_per_activation * int(code.planned_activations)
        )
        variance = None if not planned else (bonuses - planned) / planned * 100
        limit = code.activation_limit
        if not pd.isna(limit) and before_to.get(code.promo_code_id, 0) >= limit:
            status = "limit_reached"
        elif not pd.isna(code.ends_at) and code.ends_at <= end:
            status = "ended"
        else:
            status = "active"
        signals = []
        if reach > 0 and n >= 5 * reach:
            signals.append("leak_suspected")
        club_aov = aov.get(code.location_id)
        if cost is not None and club_aov is not None and cost > 0.5 * club_aov + 1e-9:
            signals.append("too_generous")
        if planned is not None and bonuses > planned + 1e-9:
            signals.append("over_budget")
        if variance is not None and variance > 20 + 1e-9:
            signals.append("variance_high")
        if status == "limit_reached" and (pd.isna(code.ends_at) or code.ends_at > end):
            signals.append("limit_reached_early")
        rows.append(
            {
                "promo_code_id": code.promo_code_id,
                "code": code.code,
                "campaign": text(code.campaign),
                "activations": n,
                "reach": reach,
                "bonuses_issued": round2(bonuses),
                "cost_per_activation": round2(cost),
                "planned_budget": round2(planned),
                "budget_variance_pct": round2(variance),
                "new_customer_share": round2(ratio(new, reach)),
                "status": status,
                "signals": signals,
            }
        )

    total_n = int(per_code["activations"].sum())
    total_bonuses = found["bonus_amount"].sum()
    return {
        "report": "promo-codes",
        "params": params_json(p, ["from", "to", "location"]),
        "codes": rows,
        "totals": {
            "codes": len(per_code),
            "activations": total_n,
            "bonuses_issued": round2(total_bonuses),
            "cost_per_activation": round2(ratio(total_bonuses, total_n)),
            "reach": int(found["chain_client_id"].nunique()),
        },
        "activations": records(
            found,
            {
                "activation_id": text,
                "activated_at": ts,
                "code": text,
                "chain_client_id": text,
                "client_name": text,
                "bonus_amount": round2,
                "activation_number": whole,
                "is_new_customer": bool,
            },
        ),
    }


# ---------------------------------------------------------------------------------------------
# R5 attributed sales
# ---------------------------------------------------------------------------------------------


def activity_type_key(value: str) -> str:
    return re.sub(r"[\W_]+", "_", value.lower()).strip("_")


def report_attributed_sales(t: Tables, p: dict[str, Any]) -> dict[str, Any]:
    start, end = parse_moment(p["from"]), parse_moment(p["to"])
    window = pd.Timedelta(days=int(p.get("window_days", 14)))
    s = t.realizations
    s = s[s["client_id"].notna() & s["posted_at"].ge(start) & s["posted_at"].lt(end)]
    if p.get("store"):
        s = s[s["location_id"].eq(p["store"])]

    acts = t.activities.copy()
    acts["activity_type"] = acts["activity_type"].map(activity_type_key)
    if p.get("associate"):
        acts = acts[acts["associate_id"].eq(p["associate"])]
    if p.get("activity_types"):
        acts = acts[acts["activity_type"].isin([activity_type_key(v) for v in p["activity_types"]])]
    acts["associate_name"] = acts["associate_id"].map(
        t.specialists.set_index("specialist_id")["name"]
    )
    pairs = s[["sale_id", "posted_at", "posted_at_utc", "chain_client_id", "amount"]].merge(
        acts[
            [
                "activity_id",
                "chain_client_id",
                "occurred_at",
                "occurred_at_utc",
                "activity_type",
                "associate_id",
                "associate_name",
            ]
        ],
        on="chain_client_id",
    )
    pairs["elapsed"] = pairs["posted_at_utc"] - pairs["occurred_at_utc"]
    pairs = pairs[pairs["elapsed"].ge(pd.Timedelta(0)) & pairs["elapsed"].le(window)]
    pairs = pairs.sort_values(["posted_at_utc", "sale_id", "occurred_at_utc", "activity_id"])
    pairs["days_before"] = pairs["elapsed"] / pd.Timedelta(days=1)

    purchases = pairs.drop_duplicates("sale_id")[
        ["sale_id", "posted_at", "chain_client_id", "amount"]
    ].merge(t.chain_clients[["chain_client_id", "client_name"]], how="left")
    purchases["activities"] = purchases["sale_id"].map(pairs.groupby("sale_id").size())
    timeline_fmt = {
        "activity_id": text,
        "occurred_at": ts,
        "activity_type": text,
        "associate_id": text,
        "associate_name": text,
        "days_before": round2,
    }
    timelines = {sale: records(group, timeline_fmt) for sale, group in pairs.groupby("sale_id")}
    purchases["timeline"] = purchases["sale_id"].map(timelines)

    related = pairs.drop_duplicates("activity_id")
    by_type = related.groupby("activity_type").size().rename("activities").reset_index()
    by_type = by_type.sort_values(["activities", "activity_type"], ascending=[False, True])

    daily = (
        purchases.groupby(purchases["posted_at"].dt.date)
        .agg(attributed_sales=("sale_id", "size"), attributed_amount=("amount", "sum"))
        .sort_index()
    )

    # Credit per associate: last touch (latest activity, ties -> greatest activity_id, i.e.
    # the last pair in this order) and the linear split.
    pairs["share"] = pairs["amount"] / pairs.groupby("sale_id")["sale_id"].transform("size")
    pairs["associate_key"] = pairs["associate_id"].fillna("\U0010ffff")
    last = pairs.drop_duplicates("sale_id", keep="last")
    credit = pd.DataFrame(
        {
            "linear_amount": pairs.groupby("associate_key")["share"].sum(),
            "last_touch_sales": last.groupby("associate_key").size(),
            "last_touch_amount": last.groupby("associate_key")["amount"].sum(),
            "associate_name": pairs.drop_duplicates("associate_key", keep="last").set_index(
                "associate_key"
            )["associate_name"],
        }
    )
    credit["last_touch_sales"] = credit["last_touch_sales"].fillna(0)
    credit["last_touch_amount"] = credit["last_touch_amount"].fillna(0.0)
    credit = credit.rename_axis("associate_key").reset_index()
    credit["_amount"] = credit["last_touch_amount"].round(6)
    credit = credit.sort_values(["_amount", "associate_key"], ascending=[False, True])
    credit["associate_id"] = credit["associate_key"].replace("\U0010ffff", None)

    attributed_amount = purchases["amount"].sum()
    total_amount = s["amount"].sum()
    return {
        "report": "attributed-sales",
        "params": params_json(
            p, ["from", "to", "window_days", "store", "associate", "activity_types"]
        ),
        "summary": {
            "attributed_sales": len(purchases),
            "attributed_amount": round2(attributed_amount),
            "related_activities": len(related),
            "activity_types": len(by_type),
            "total_sales": len(s),
            "total_amount": round2(total_amount),
            "attributed_share": round2(ratio(attributed_amount, total_amount)),
        },
        "by_type": records(by_type, {"activity_type": text, "activities": whole}),
        "daily": [
            {
                "date": d.isoformat(),
                "attributed_sales": int(r.attributed_sales),
                "attributed_amount": round2(r.attributed_amount),
            }
            for d, r in daily.iterrows()
        ],
        "purchases": records(
            purchases,
            {
                "sale_id": text,
                "posted_at": ts,
                "chain_client_id": text,
                "client_name": text,
                "amount": round2,
                "activities": whole,
                "timeline": list,
            },
        ),
        "associates": records(
            credit,
            {
                "associate_id": text,
                "associate_name": text,
                "last_touch_sales": whole,
                "last_touch_amount": round2,
                "linear_amount": round2,
            },
        ),
    }


# ---------------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------------

REPORTS = {
    "promotions": report_promotions,
    "chain-clients": report_chain_clients,
    "repeat-clients": report_repeat_clients,
    "promo-codes": report_promo_codes,
    "attributed-sales": report_attributed_sales,
}


def params_json(p: dict[str, Any], names: list[str]) -> dict[str, Any]:
    out = {}
    for name in names:
        value = p.get(name)
        if name in ("from", "to") and value is not None:
            value = ts(parse_moment(value))
        out[name] = value
    return out


def report(tables: Tables, name: str, params: dict[str, Any]) -> dict[str, Any]:
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}: choose one of {', '.join(REPORTS)}")
    return REPORTS[name](tables, params)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=list(REPORTS))
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--from", dest="from_")
    parser.add_argument("--to")
    parser.add_argument("--location")
    parser.add_argument("--role", default="analyst", choices=["analyst", "manager"])
    parser.add_argument("--promotion-type")
    parser.add_argument("--reactivation-days", type=int, default=90)
    parser.add_argument("--regular-min-visits", type=int, default=2)
    parser.add_argument("--min-deals", type=int, default=2)
    parser.add_argument("--window-days", type=int, default=14)
    parser.add_argument("--store")
    parser.add_argument("--associate")
    parser.add_argument("--activity-type", action="append", dest="activity_types")
    parser.add_argument("--sort", default="name")
    args = parser.parse_args(argv)
    if args.name != "chain-clients" and (args.from_ is None or args.to is None):
        parser.error("--from and --to are required for this report")
    if args.name == "promotions" and not args.location:
        parser.error("--location is required for the promotions report")
    params = {
        "from": args.from_,
        "to": args.to,
        "location": args.location,
        "role": args.role,
        "promotion_type": args.promotion_type,
        "reactivation_days": args.reactivation_days,
        "regular_min_visits": args.regular_min_visits,
        "min_deals": args.min_deals,
        "window_days": args.window_days,
        "store": args.store,
        "associate": args.associate,
        "activity_types": args.activity_types,
        "sort": args.sort,
    }
    tables = load(args.landing)
    try:
        document = report(tables, args.name, params)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
