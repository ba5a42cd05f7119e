"""R3 repeat clients on a hand-made chain; every expected number is worked out in the comments.

Locations: M1 (Europe/Moscow), Y1 (Asia/Yekaterinburg, UTC+5). Period [2025-03-01, 2025-04-01)
unless a test says otherwise; posted_at is local time of the sale's location.

  P  Павел: records P1 (M1) and P2 (Y1), same phone -> one chain client.
     D1 100.00 + D1 50.00 + D1 -10.00 (refund) at M1; D2 30.00 (no deal record) and a sale
     without a deal 20.00 at Y1 -> 3 deals, 190.00, 63.33
  R  Рита: three deals 33.00 + 33.00 + 34.00 -> 3, 100.00, 33.33
  X  Алексей: DX1 15.00 + DX2 25.00 -> 2, 40.00, 20.00
  V1, V2  Вера twice (phones ...11, ...12: two chain clients): 2 deals, 40.00 each
  S  Семён: two sales without a deal, 20.00 each -> 2 deals of their own, 40.00, 20.00
  ghost: sales of client_id "ghost" with no client record: DG1 10.00 + DG2 30.00
     -> 2, 40.00, 20.00, null name
  T  Таня (Y1): 02-28 23:59 out, 03-01 00:00 in (19:00 UTC the day before), 03-31 23:59 in,
     04-01 00:00 out, 04-01 03:00 out (22:00 UTC on 03-31) -> 2, 10.00 + 20.00 = 30.00, 15.00
  U  Ульяна (M1): 03-01 00:00 in, 03-15 in, 04-01 00:00 out -> 2, 10.00, 5.00
  Q  Ксения: 0.02 + 0.03 -> 2, 0.05, 0.025 -> 0.03 (half away from zero)
  N  Нина: 0.05 + -0.10 -> 2, -0.05, -0.025 -> -0.03 (half away from zero)
  O  Ольга: one posted deal 500.00; a draft, a cancelled, a deleted and a posted-then-
     cancelled sale (other deals) are no realizations -> 1 deal
  anonymous: two posted sales without a client, 1000.00 each

Default ordering (deals desc, sales_total desc, client_name, nulls last):
  P, R, X, V1/V2 (same name: by chain_client_id), S, ghost, T, U, Q, N
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

import pytest

from crm_analytics.reports import repeat_clients
from crm_analytics.reports.base import connect
from crm_analytics.reports.errors import ReportError
from tests.pipeline import build_warehouse

GENERATED = datetime(2025, 6, 1)
MARCH = {"from": "2025-03-01", "to": "2025-04-01"}


def chain_id(identity_key: str) -> str:
    """chain_client_id per the contract: lower-case hex MD5 of the identity key."""
    return hashlib.md5(identity_key.encode("utf-8")).hexdigest()


def phone_id(last_two: str) -> str:
    return chain_id(f"phone:790010000{last_two}")


P, R, X, S, T, U, Q, N, OLGA = (
    phone_id(n) for n in ("01", "03", "04", "05", "06", "07", "08", "09", "10")
)
GHOST = chain_id("client:ghost")
# The two "Вера" tie on deals, sales_total and name: the chain_client_id decides.
VERA = sorted([phone_id("11"), phone_id("12")])


def client(cid, name, phone_digits, lid="M1"):
    return {
        "client_id": cid,
        "location_id": lid,
        "name": name,
        "phone": phone_digits,
        "registered_at": "2024-01-01 10:00",
    }


def sale(sid, cid, amount, posted_at, deal=None, lid="M1", status="posted", **extra):
    return {
        "sale_id": sid,
        "location_id": lid,
        "client_id": cid,
        "deal_id": deal,
        "amount": amount,
        "status": status,
        "posted_at": posted_at,
        "created_at": "2025-02-20 09:00",
        **extra,
    }


EXTRACTS = {
    "locations": [
        {"location_id": "M1", "name": "Москва", "timezone": "Europe/Moscow"},
        {"location_id": "Y1", "name": "Екатеринбург", "timezone": "Asia/Yekaterinburg"},
    ],
    "clients": [
        client("P1", "Павел", "+7 900 100-00-01"),
        client("P2", "Павел", "89001000001", lid="Y1"),
        client("R", "Рита", "+7 900 100-00-03"),
        client("X", "Алексей", "+7 900 100-00-04"),
        client("S", "Семён", "+7 900 100-00-05"),
        client("T", "Таня", "+7 900 100-00-06", lid="Y1"),
        client("U", "Ульяна", "+7 900 100-00-07"),
        client("Q", "Ксения", "+7 900 100-00-08"),
        client("N", "Нина", "+7 900 100-00-09"),
        client("O", "Ольга", "+7 900 100-00-10"),
        client("V1", "Вера", "+7 900 100-00-11"),
        client("V2", "Вера", "+7 900 100-00-12"),
    ],
    "deals": [
        # only some deals have a record: D2, DX2, ... count all the same
        {
            "deal_id": "D1",
            "location_id": "M1",
            "client_id": "P1",
            "opened_at": "2025-03-01 09:00",
            "status": "won",
        },
        {
            "deal_id": "DX1",
            "location_id": "M1",
            "client_id": "X",
            "opened_at": "2025-03-01 09:00",
            "status": "won",
        },
    ],
    "sales": [
        sale("sp1", "P1", "100.00", "2025-03-02 10:00", "D1"),
        sale("sp2", "P1", "50.00", "2025-03-03 10:00", "D1"),
        sale("sp3", "P2", "30.00", "2025-03-05 10:00", "D2", lid="Y1"),
        sale("sp4", "P2", "20.00", "2025-03-06 10:00", lid="Y1"),
        sale("sp5", "P1", "-10.00", "2025-03-07 10:00", "D1"),
        sale("sr1", "R", "33.00", "2025-03-10 10:00", "DR1"),
        sale("sr2", "R", "33.00", "2025-03-11 10:00", "DR2"),
        sale("sr3", "R", "34.00", "2025-03-12 10:00", "DR3"),
        sale("sx1", "X", "15.00", "2025-03-10 10:00", "DX1"),
        sale("sx2", "X", "25.00", "2025-03-11 10:00", "DX2"),
        sale("ss1", "S", "20.00", "2025-03-10 10:00"),
        sale("ss2", "S", "20.00", "2025-03-11 10:00"),
        sale("sg1", "ghost", "10.00", "2025-03-10 10:00", "DG1"),
        sale("sg2", "ghost", "30.00", "2025-03-11 10:00", "DG2"),
        sale("st0", "T", "1000.00", "2025-02-28 23:59", "DT0", lid="Y1"),
        sale("st1", "T", "10.00", "2025-03-01 00:00", "DT1", lid="Y1"),
        sale("st2", "T", "20.00", "2025-03-31 23:59", "DT2", lid="Y1"),
        sale("st3", "T", "1000.00", "2025-04-01 00:00", "DT3", lid="Y1"),
        sale("st4", "T", "1000.00", "2025-04-01 03:00", "DT4", lid="Y1"),
        sale("su1", "U", "5.00", "2025-03-01 00:00", "DU1"),
        sale("su2", "U", "5.00", "2025-04-01 00:00", "DU2"),
        sale("su3", "U", "5.00", "2025-03-15 12:00", "DU3"),
        sale("sq1", "Q", "0.02", "2025-03-10 10:00", "DQ1"),
        sale("sq2", "Q", "0,03", "2025-03-11 10:00", "DQ2"),
        sale("sn1", "N", "0.05", "2025-03-10 10:00", "DN1"),
        sale("sn2", "N", "-0.10", "2025-03-11 10:00", "DN2"),
        sale("so1", "O", "500.00", "2025-03-10 10:00", "DO1"),
        sale("so2", "O", "100.00", None, "DO2", status="draft"),
        sale("so3", "O", "100.00", "2025-03-10 10:00", "DO3", status="cancelled"),
        sale("so4", "O", "100.00", "2025-03-10 10:00", "DO4", is_deleted="true"),
        sale("so5", "O", "100.00", "2025-03-10 10:00", "DO5"),
        # the current version of so5 (later updated_at) is cancelled
        sale(
            "so5",
            "O",
            "100.00",
            "2025-03-10 10:00",
            "DO5",
            status="cancelled",
            updated_at="2025-03-20 00:00",
        ),
        sale("sv1", "V1", "15.00", "2025-03-10 10:00", "DV1"),
        sale("sv2", "V1", "25.00", "2025-03-11 10:00", "DV2"),
        sale("sv3", "V2", "20.00", "2025-03-10 10:00", "DV3"),
        sale("sv4", "V2", "20.00", "2025-03-11 10:00", "DV4"),
        sale("sa1", None, "1000.00", "2025-03-10 10:00", "DA1"),
        sale("sa2", None, "1000.00", "2025-03-11 10:00", "DA2"),
    ],
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    warehouse = build_warehouse(tmp_path_factory.mktemp("r3"), EXTRACTS)
    with connect(warehouse) as connection:
        yield connection


def report(con, **params):
    return repeat_clients.run(con, {**MARCH, **params}, "analyst", GENERATED)


def rows(con, **params) -> list[dict]:
    return report(con, **params).section("rows").rows


def row_of(con, chain_client_id: str, **params) -> dict | None:
    found = [row for row in rows(con, **params) if row["chain_client_id"] == chain_client_id]
    assert len(found) <= 1
    return found[0] if found else None


def summary(row: dict) -> tuple:
    return row["deals"], row["sales_total"], row["average_check"]


def test_realizations_of_one_deal_count_once(con):
    # P: D1 three times (100 + 50 - 10), D2, one sale without a deal -> 3 deals, not 5
    assert row_of(con, P)["deals"] == 3


def test_realization_without_deal_is_a_deal_of_its_own(con):
    # S: two sales without a deal_id are two deals, not one shared "null" deal
    assert summary(row_of(con, S)) == (2, Decimal("40.00"), Decimal("20.00"))


def test_deal_id_without_deal_record_counts(con):
    # X: DX1 has a deal record, DX2 has none; both count
    assert summary(row_of(con, X)) == (2, Decimal("40.00"), Decimal("20.00"))


def test_refunds_included_in_sales_total(con):
    # P: 100 + 50 - 10 + 30 + 20 = 190.00; N: 0.05 - 0.10 = -0.05
    assert row_of(con, P)["sales_total"] == Decimal("190.00")
    assert row_of(con, N)["sales_total"] == Decimal("-0.05")


def test_period_bounds_local_time_moscow(con):
    # U: 03-01 00:00 (exactly from) in, 03-15 in, 04-01 00:00 (exactly to) out
    assert summary(row_of(con, U)) == (2, Decimal("10.00"), Decimal("5.00"))


def test_period_bounds_local_time_yekaterinburg(con):
    # T (UTC+5): 03-01 00:00 local is 02-28 19:00 UTC but in; 03-31 23:59 in;
    # 04-01 00:00 (exactly to) out; 04-01 03:00 local (03-31 22:00 UTC) out;
    # 02-28 23:59 out -> DT1 10.00 + DT2 20.00
    assert summary(row_of(con, T)) == (2, Decimal("30.00"), Decimal("15.00"))


def test_period_to_minute_precision(con):
    # [03-31 23:59, 04-01 00:00) holds T's DT2 only; with min_deals 1 it shows
    found = rows(con, **{"from": "2025-03-31T23:59", "to": "2025-04-01T00:00"}, min_deals="1")
    assert [(row["chain_client_id"], row["sales_total"]) for row in found] == [
        (T, Decimal("20.00"))
    ]


def test_drafts_cancelled_and_deleted_sales_excluded(con):
    # O: only so1 is a realization (the draft, the cancelled, the deleted and the sale whose
    # current version is cancelled are not) -> 1 deal: below the default min_deals
    assert row_of(con, OLGA) is None
    assert summary(row_of(con, OLGA, min_deals="1")) == (1, Decimal("500.00"), Decimal("500.00"))


def test_anonymous_realizations_left_out(con):
    found = rows(con, min_deals="1")
    assert all(row["chain_client_id"] is not None for row in found)
    # the two anonymous 1000.00 sales are in no row and no total (see the totals test)
    assert Decimal("1000.00") not in [row["sales_total"] for row in found]


def test_fact_without_client_record_counts_with_null_name(con):
    row = row_of(con, GHOST)
    assert row["client_name"] is None
    assert summary(row) == (2, Decimal("40.00"), Decimal("20.00"))


def test_client_with_two_records_merged(con):
    # P1 (M1) and P2 (Y1) share +7 900 100-00-01: one row; apart they would be
    # P1 1 deal 140.00 and P2 2 deals 50.00
    mine = [row for row in rows(con, min_deals="1") if row["client_name"] == "Павел"]
    assert mine == [
        {
            "chain_client_id": P,
            "client_name": "Павел",
            "deals": 3,
            "sales_total": Decimal("190.00"),
            "average_check": Decimal("63.33"),
        }
    ]


def test_min_deals_default_two(con):
    # everyone with at least 2 deals; O (1 deal) left out
    assert {row["chain_client_id"] for row in rows(con)} == {P, R, X, *VERA, S, GHOST, T, U, Q, N}


def test_min_deals_custom(con):
    assert [row["chain_client_id"] for row in rows(con, min_deals="3")] == [P, R]
    # min_deals 1 adds O; with 1 deal it comes last
    assert [row["chain_client_id"] for row in rows(con, min_deals=1)][-1] == OLGA


def test_ordering_deals_then_sales_total_then_name(con):
    # 3 deals: P 190 > R 100; 2 deals: 40.00 x5 -> "Алексей", "Вера" x2 (by chain_client_id),
    # "Семён", nameless ghost last; then T 30, U 10, Q 0.05, N -0.05
    assert [row["chain_client_id"] for row in rows(con)] == [
        P,
        R,
        X,
        *VERA,
        S,
        GHOST,
        T,
        U,
        Q,
        N,
    ]


def test_average_check_rounded_once_half_away_from_zero(con):
    assert row_of(con, P)["average_check"] == Decimal("63.33")  # 190 / 3 = 63.333...
    assert row_of(con, R)["average_check"] == Decimal("33.33")  # 100 / 3 = 33.333...
    assert row_of(con, Q)["average_check"] == Decimal("0.03")  # 0.05 / 2 = 0.025 -> up
    assert row_of(con, N)["average_check"] == Decimal("-0.03")  # -0.025 -> away from zero


def test_rows_fields(con):
    assert rows(con)[0] == {
        "chain_client_id": P,
        "client_name": "Павел",
        "deals": 3,
        "sales_total": Decimal("190.00"),
        "average_check": Decimal("63.33"),
    }


def test_totals_over_rows_shown(con):
    # 11 rows; deals 3 + 3 + 2 x 9 = 24; 190 + 100 + 40 x 5 + 30 + 10 + 0.05 - 0.05 = 530.00;
    # O and the anonymous sales are not shown, so not counted; 530 / 24 = 22.083... -> 22.08
    assert report(con).section("totals").record == {
        "clients": 11,
        "deals": 24,
        "sales_total": Decimal("530.00"),
        "average_check": Decimal("22.08"),
    }
    # min_deals 3: P and R: 6 deals, 290.00, 48.333... -> 48.33
    assert report(con, min_deals="3").section("totals").record == {
        "clients": 2,
        "deals": 6,
        "sales_total": Decimal("290.00"),
        "average_check": Decimal("48.33"),
    }
    # min_deals 1 adds O: 12 clients, 25 deals, 1030.00, 41.20
    assert report(con, min_deals="1").section("totals").record == {
        "clients": 12,
        "deals": 25,
        "sales_total": Decimal("1030.00"),
        "average_check": Decimal("41.20"),
    }


def test_totals_without_rows(con):
    # no client has 10 deals: zero totals, and the ratio of a zero denominator is null
    assert report(con, min_deals="10").section("totals").record == {
        "clients": 0,
        "deals": 0,
        "sales_total": Decimal("0"),
        "average_check": None,
    }


def test_location_filter(con):
    # Y1 only: P's D2 30.00 + own deal 20.00 -> 2, 50.00, 25.00; T 2, 30.00, 15.00
    assert [(row["chain_client_id"], *summary(row)) for row in rows(con, location="Y1")] == [
        (P, 2, Decimal("50.00"), Decimal("25.00")),
        (T, 2, Decimal("30.00"), Decimal("15.00")),
    ]
    # M1 only: P keeps a single deal (D1 140.00) and drops out; T has no sale at M1
    assert [row["chain_client_id"] for row in rows(con, location="M1")] == [
        R,
        X,
        *VERA,
        S,
        GHOST,
        U,
        Q,
        N,
    ]


def test_long_period_is_lifetime_value(con):
    # all of T's realizations: DT0..DT4 = 1000 + 10 + 20 + 1000 + 1000
    row = row_of(con, T, **{"from": "2000-01-01", "to": "2030-01-01"})
    assert summary(row) == (5, Decimal("3030.00"), Decimal("606.00"))


def test_unknown_location_refused(con):
    with pytest.raises(ReportError):
        report(con, location="NOPE")


@pytest.mark.parametrize(
    "period",
    [
        {"from": "2025-04-01", "to": "2025-03-01"},
        {"from": "2025-03-01T10:00", "to": "2025-03-01T10:00"},
    ],
)
def test_to_not_after_from_refused(con, period):
    with pytest.raises(ReportError):
        report(con, **period)


@pytest.mark.parametrize("bad", [{"min_deals": "two"}, {"from": "01.03.2025"}])
def test_bad_parameter_values_refused(con, bad):
    with pytest.raises(ReportError):
        report(con, **bad)
