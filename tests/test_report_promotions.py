"""R1 promotions on a hand-made chain; every expected number is worked out in the comments.

Location L1 (Moscow), period [2025-03-01, 2025-04-01), reactivation 90 days, regular 2 visits.
Visits at L1 (arrived unless noted; P* = promotion on the arrived appointment):
  CN  Нина     03-05 VN1 S1 PFD | 03-07 VX1 S1 other type | 04-10 VN2 S1 | 04-20 VN3 S2
  CO  Ольга    02-20 VO0 S2 | 03-08 cancelled PFD (no visit) | 03-10 VO1 S2 PCS + S3 no promo
  CR  Рита     2024-12-05 10:00 VR0 S1 | 03-05 10:00 VR1 S1 PFD | 03-20 VR2 S2
  CU  Роман    2024-12-05 10:01 VU0 S3 | 03-05 10:00 VU1 S3 PFD
  CT  Тимур    03-02 VT1 S2 PFD | 03-12 VT2 S1 | 03-25 VT3 S2 PCS | (03-03 PFD at L2)
  anonymous    03-15 VA S1 PFD
  CZ  Зоя      03-09 VX3: S3 arrived without promo + S3 PFD no_show -> a visit, not a promo one
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from crm_analytics.reports import promotions
from crm_analytics.reports.base import connect
from crm_analytics.reports.errors import ReportError
from tests.pipeline import build_warehouse

PERIOD = {"from": "2025-03-01", "to": "2025-04-01", "location": "L1"}
GENERATED = datetime(2025, 6, 1)


def appointment(aid, visit, client, specialist, promotion, starts_at, status="arrived"):
    return {
        "appointment_id": aid,
        "visit_id": visit,
        "location_id": "L1",
        "client_id": client,
        "specialist_id": specialist,
        "promotion_id": promotion,
        "starts_at": starts_at,
        "created_at": "2024-11-01 09:00",
        "status": status,
    }


def sale(sid, client, visit, amount, posted_at, location="L1", status="posted"):
    return {
        "sale_id": sid,
        "location_id": location,
        "client_id": client,
        "visit_id": visit,
        "amount": amount,
        "status": status,
        "posted_at": posted_at,
        "created_at": "2025-03-01 09:00",
    }


def client(cid, name, phone, balance="0"):
    return {
        "client_id": cid,
        "location_id": "L1",
        "name": name,
        "phone": phone,
        "email": f"{cid.lower()}@example.ru",
        "registered_at": "2024-11-01 09:00",
        "balance": balance,
    }


EXTRACTS = {
    "locations": [
        {"location_id": "L1", "name": "Центр", "timezone": "Europe/Moscow"},
        {"location_id": "L2", "name": "Урал", "timezone": "Asia/Yekaterinburg"},
    ],
    "specialists": [
        {"specialist_id": "S1", "location_id": "L1", "name": "Анна"},
        {"specialist_id": "S2", "location_id": "L1", "name": "Борис"},
        {"specialist_id": "S3", "location_id": "L1", "name": "Вера"},
    ],
    "promotions": [
        {
            "promotion_id": "PFD",
            "location_id": "L1",
            "name": "-10%",
            "promotion_type": "fixed_discount",
        },
        # the promotion's own location is not checked: a cashback of L2 applied at L1 counts
        {
            "promotion_id": "PCS",
            "location_id": "L2",
            "name": "cashback",
            "promotion_type": "fixed_cashback_sold",
        },
        {
            "promotion_id": "POT",
            "location_id": "L1",
            "name": "points",
            "promotion_type": "loyalty_points",
        },
    ],
    "clients": [
        client("CN", "Нина Новая", "+7 900 000-00-01"),
        client("CO", "Ольга Старова", "+7 900 000-00-02", "150.00"),
        client("CR", "Рита Вернулась", "+7 900 000-00-03"),
        client("CU", "Роман Недотянов", "+7 900 000-00-04", "0"),
        client("CT", "Тимур Дважды", "+7 900 000-00-05", "20,50"),
        client("CZ", "Зоя Прохожая", "+7 900 000-00-06"),
    ],
    "appointments": [
        appointment("a1", "VN1", "CN", "S1", "PFD", "2025-03-05 10:00"),
        appointment("a16", "VX1", "CN", "S1", "POT", "2025-03-07 10:00"),
        appointment("a2", "VN2", "CN", "S1", None, "2025-04-10 10:00"),
        appointment("a3", "VN3", "CN", "S2", None, "2025-04-20 10:00"),
        appointment("a4", "VO0", "CO", "S2", None, "2025-02-20 10:00"),
        appointment("a17", "VX2", "CO", "S2", "PFD", "2025-03-08 10:00", "cancelled"),
        appointment("a5", "VO1", "CO", "S2", "PCS", "2025-03-10 10:00"),
        appointment("a6", "VO1", "CO", "S3", None, "2025-03-10 11:00"),
        appointment("a7", "VR0", "CR", "S1", None, "2024-12-05 10:00"),
        appointment("a8", "VR1", "CR", "S1", "PFD", "2025-03-05 10:00"),
        appointment("a9", "VR2", "CR", "S2", None, "2025-03-20 10:00"),
        appointment("a10", "VU0", "CU", "S3", None, "2024-12-05 10:01"),
        appointment("a11", "VU1", "CU", "S3", "PFD", "2025-03-05 10:00"),
        appointment("a12", "VA", None, "S1", "PFD", "2025-03-15 10:00"),
        appointment("a13", "VT1", "CT", "S2", "PFD", "2025-03-02 10:00"),
        appointment("a14", "VT2", "CT", "S1", None, "2025-03-12 10:00"),
        appointment("a15", "VT3", "CT", "S2", "PCS", "2025-03-25 10:00"),
        {**appointment("a20", "VL2", "CT", "S2", "PFD", "2025-03-03 10:00"), "location_id": "L2"},
        appointment("a18", "VX3", "CZ", "S3", None, "2025-03-09 10:00"),
        appointment("a19", "VX3", "CZ", "S3", "PFD", "2025-03-09 11:00", "no_show"),
    ],
    "sales": [
        sale("s1", "CN", "VN1", "1000.00", "2025-03-05 11:00"),
        sale("s2", "CN", None, "500.00", "2025-03-06 12:00"),
        sale("s3", "CN", "VN2", "700.00", "2025-04-10 11:00"),
        sale("s4", "CO", "VO1", "800.00", "2025-04-02 09:00"),
        sale("s5", "CO", "VO1", "-100.00", "2025-04-03 09:00"),
        sale("s6", None, "VA", "300.00", "2025-03-15 11:00"),
        sale("s7", "CR", "VR2", "200.00", "2025-03-20 11:00"),
        sale("s8", "CR", None, "999.00", "2025-03-21 11:00", location="L2"),
        sale("s9", "CT", "VT2", "150.00", "2025-03-12 11:00"),
        sale("s10", "CT", "VT1", "250.00", "2025-03-02 11:00"),
        sale("s11", "CN", "VN1", "5000.00", None, status="draft"),
        sale("s12", "CO", None, "40.00", "2025-03-01 09:00"),
    ],
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    warehouse = build_warehouse(tmp_path_factory.mktemp("r1"), EXTRACTS)
    with connect(warehouse) as connection:
        yield connection


def run(con, role="analyst", **params):
    return promotions.run(con, {**PERIOD, **params}, role, GENERATED)


def test_promo_visits_new_old_reactivated_returned_regular(con):
    summary = run(con).section("summary").record
    assert summary == {
        # VT1, VN1, VR1, VU1, VO1, VA, VT3 (the anonymous visit counts as a visit)
        "promo_visits": 7,
        "promo_clients": 5,  # CN, CO, CR, CU, CT
        "new_clients": 2,  # CN and CT had no earlier visit at L1
        "old_clients": 3,  # CO (02-20), CR and CU (December)
        # CR: 2024-12-05 10:00 -> 2025-03-05 10:00 is exactly 90 x 24 h: reactivated;
        # CU: one minute short of it: old but not reactivated
        "reactivated_clients": 1,
        "returned_clients": 2,  # CN (03-07, 04-10, 04-20), CR (03-20)
        "regular_clients": 1,  # CN: 3 visits after the last promo visit >= 2; CR only 1
        "non_returners": 3,  # CO, CU, CT (CT's 03-12 visit precedes its last promo visit)
        "new_returned_clients": 1,  # CN
    }


def test_daily_counts_visits_not_clients(con):
    daily = run(con).section("daily").rows
    assert [(row["date"], row["promo_visits"]) for row in daily] == [
        (date(2025, 3, 2), 1),
        (date(2025, 3, 5), 3),
        (date(2025, 3, 10), 1),
        (date(2025, 3, 15), 1),
        (date(2025, 3, 25), 1),
    ]


def test_earnings_promo_and_repeat_revenue(con):
    earnings = run(con).section("earnings").record
    # promo: s1 1000 + s4 800 + s5 -100 (posted after the period: whenever posted) + s6 300
    # (anonymous promo visit) + s10 250 = 2250.00; the draft s11 is not a realization
    assert earnings["promo_revenue"] == Decimal("2250.00")
    # repeat: CN s2 500 + s3 700, CR s7 200 = 1400.00; not s8 (L2), s9 (before CT's last
    # promo visit), s12 (before CO's promo visit)
    assert earnings["repeat_revenue"] == Decimal("1400.00")
    assert earnings["total_revenue"] == Decimal("3650.00")


def test_specialists_two_in_one_visit_and_same_specialist_return(con):
    rows = run(con).section("specialists").rows
    assert rows == [
        # S1: CN (VN1), CR (VR1); both returned; only CN came back to S1 (VX1/VN2)
        {
            "specialist_id": "S1",
            "specialist_name": "Анна",
            "promo_clients": 2,
            "returned_clients": 2,
            "returned_to_specialist": 1,
        },
        # S2: CO (VO1) and CT (VT1, VT3): neither returned
        {
            "specialist_id": "S2",
            "specialist_name": "Борис",
            "promo_clients": 2,
            "returned_clients": 0,
            "returned_to_specialist": 0,
        },
        # S3: CO (second specialist of VO1), CU (VU1)
        {
            "specialist_id": "S3",
            "specialist_name": "Вера",
            "promo_clients": 2,
            "returned_clients": 0,
            "returned_to_specialist": 0,
        },
    ]


def test_non_returners_for_manager_only(con):
    assert "non_returners" not in [s.key for s in run(con).sections]
    rows = run(con, role="manager").section("non_returners").rows
    assert [row["client_name"] for row in rows] == [
        "Ольга Старова",
        "Роман Недотянов",
        "Тимур Дважды",
    ]
    olga, roman, timur = rows
    assert olga["phone"] == "+79000000002"
    assert olga["email"] == "co@example.ru"
    assert olga["registered_at"] == datetime(2024, 11, 1, 9, 0)
    assert olga["last_visit_at"] == datetime(2025, 3, 10, 10, 0)  # VO1's earliest arrival
    assert olga["paid_for_promotion"] == Decimal("700.00")  # s4 800 + s5 -100
    assert olga["balance"] == Decimal("150.00")
    assert roman["paid_for_promotion"] == Decimal("0")
    assert timur["last_visit_at"] == datetime(2025, 3, 25, 10, 0)
    assert timur["paid_for_promotion"] == Decimal("250.00")  # s10 in VT1; nothing in VT3
    assert timur["balance"] == Decimal("20.50")


def test_reactivation_days_parameter(con):
    # 30 days: CR (90 d) and CU (89 d 23 h 59 min) qualify, CO (18 d) does not
    assert run(con, reactivation_days="30").section("summary").record["reactivated_clients"] == 2


def test_regular_min_visits_parameter(con):
    def regular(n):
        return run(con, regular_min_visits=str(n)).section("summary").record["regular_clients"]

    # visits after the last promo visit: CN 3, CR 1
    assert (regular(1), regular(3), regular(4)) == (2, 1, 0)


def test_promotion_type_selects_one_type(con):
    summary = run(con, promotion_type="fixed_cashback_sold").section("summary").record
    # VO1 and VT3; CT's earlier visits (03-02, 03-12) make it old; gap 13 days: not reactivated
    assert (
        summary["promo_visits"],
        summary["promo_clients"],
        summary["new_clients"],
        summary["old_clients"],
        summary["reactivated_clients"],
        summary["returned_clients"],
    ) == (2, 2, 0, 2, 0, 0)


def test_unsupported_promotion_type_refused(con):
    with pytest.raises(ReportError, match="promotion-type"):
        run(con, promotion_type="loyalty_points")


def test_location_required_and_known(con):
    with pytest.raises(ReportError, match="location"):
        promotions.run(con, {"from": "2025-03-01", "to": "2025-04-01"}, "analyst", GENERATED)
    with pytest.raises(ReportError, match="unknown location"):
        run(con, location="L9")


def test_period_to_must_be_after_from(con):
    with pytest.raises(ReportError, match="after"):
        run(con, **{"from": "2025-04-01", "to": "2025-04-01"})


def test_period_is_half_open(con):
    # [03-05 10:00, 03-10 10:00): VN1, VR1, VU1 in; VO1 (exactly at `to`) out
    summary = run(con, **{"from": "2025-03-05T10:00", "to": "2025-03-10T10:00"})
    assert summary.section("summary").record["promo_visits"] == 3
