"""R4 promo codes over a real warehouse built from hand-written extracts.

One warehouse holds every scenario. Period: March 2025, [2025-03-01, 2025-04-01), local time.
Clubs: msk (Europe/Moscow, UTC+3) and ekb (Asia/Yekaterinburg, UTC+5).

Chain clients (records share a phone): A, B, T, R, Buyer at msk; P and Q with a record at each
club; U at ekb only.

Realizations at msk in March with a positive amount: 800 + 1200 (Buyer), 1000 (anonymous),
1000 (T, on 03-20) -> AOV(msk) = 4000 / 4 = 1000, half of it 500. Not counted: a refund
-500 and a 0.00 sale (not positive), a draft, one posted at 2025-04-01 00:00 (= to), the
ekb sale. AOV(ekb) = 3000 (one anonymous sale).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from crm_analytics.reports import base, promo_codes
from crm_analytics.reports.errors import ReportError
from crm_analytics.reports.result import ReportResult
from tests.pipeline import build_warehouse

pytestmark = pytest.mark.slow

MARCH = {"from": "2025-03-01", "to": "2025-04-01"}


def _client(client_id: str, location: str, name: str, phone_tail: str) -> dict[str, str]:
    return {
        "client_id": client_id,
        "location_id": location,
        "name": name,
        "phone": f"+7 900 000-00-{phone_tail}",
        "registered_at": "2024-01-01 10:00",
    }


def _sale(
    sale_id: str, location: str, client: str, amount: str, posted_at: str, status: str = "posted"
) -> dict[str, str]:
    return {
        "sale_id": sale_id,
        "location_id": location,
        "client_id": client,
        "amount": amount,
        "status": status,
        "posted_at": posted_at,
        "created_at": "2025-01-01 09:00",
    }


def _code(
    promo_code_id: str,
    code: str,
    location: str = "msk",
    *,
    starts_at: str = "2025-01-01 00:00",
    **extra: str,
) -> dict[str, str]:
    return {
        "promo_code_id": promo_code_id,
        "code": code,
        "campaign": f"Campaign {code}",
        "location_id": location,
        "starts_at": starts_at,
        **extra,
    }


def _act(
    activation_id: str, code_id: str, client: str, at: str, bonus: str = "10.00"
) -> dict[str, str]:
    return {
        "activation_id": activation_id,
        "promo_code_id": code_id,
        "client_id": client,
        "activated_at": at,
        "bonus_amount": bonus,
    }


EXTRACTS: dict[str, list[dict[str, Any]]] = {
    "locations": [
        {"location_id": "msk", "name": "Moscow club", "timezone": "Europe/Moscow"},
        {"location_id": "ekb", "name": "Yekaterinburg club", "timezone": "Asia/Yekaterinburg"},
    ],
    "clients": [
        _client("c_a", "msk", "Anna", "01"),
        _client("c_b", "msk", "Boris", "02"),
        _client("c_p", "msk", "Pavel", "03"),
        _client("c_p_ekb", "ekb", "Pavel", "03"),
        _client("c_q", "msk", "Quinn", "04"),
        _client("c_q_ekb", "ekb", "Quinn", "04"),
        _client("c_r", "msk", "Roman", "05"),
        _client("c_t", "msk", "Tanya", "06"),
        _client("c_buyer", "msk", "Buyer", "07"),
        _client("c_u_ekb", "ekb", "Ulyana", "08"),
    ],
    "sales": [
        _sale("s1", "msk", "c_buyer", "800.00", "2025-03-02 12:00"),
        _sale("s2", "msk", "c_buyer", "1200.00", "2025-03-03 12:00"),
        _sale("s3", "msk", "", "1000.00", "2025-03-04 12:00"),
        _sale("s4", "msk", "c_buyer", "-500.00", "2025-03-05 12:00"),
        _sale("s5", "msk", "c_buyer", "0.00", "2025-03-06 12:00"),
        _sale("s6", "msk", "c_buyer", "5000.00", "", status="draft"),
        _sale("s7", "msk", "c_buyer", "9000.00", "2025-04-01 00:00"),
        _sale("s8", "ekb", "", "3000.00", "2025-03-10 12:00"),
        _sale("s_p", "ekb", "c_p_ekb", "100.00", "2025-02-15 12:00"),
        _sale("s_q", "msk", "c_q", "100.00", "2025-02-15 12:00"),
        _sale("s_r", "msk", "c_r", "100.00", "2025-02-25 12:00"),
        _sale("s_t", "msk", "c_t", "1000.00", "2025-03-20 12:00"),
    ],
    "promo_codes": [
        _code("P01", "LEAK5"),
        _code("P02", "LEAK4"),
        _code("P03", "GEN500"),
        _code("P04", "GEN501"),
        _code("P05", "OVER", bonus_per_activation="100.00", planned_activations="2"),
        _code("P06", "ONPLAN", bonus_per_activation="100.00", planned_activations="2"),
        _code("P07", "VAR20", bonus_per_activation="100.00", planned_activations="5"),
        _code("P08", "VAR2001", bonus_per_activation="100.00", planned_activations="5"),
        _code("P09", "NOPLAN", bonus_per_activation="100.00"),
        _code("P10", "ZEROPLAN", bonus_per_activation="100.00", planned_activations="0"),
        _code("P11", "LIMITEND", activation_limit="2", ends_at="2025-03-15 00:00"),
        _code("P12", "ENDSTO", activation_limit="5", ends_at="2025-04-01 00:00"),
        _code("P13", "EARLY", activation_limit="3", ends_at="2025-06-01 00:00"),
        _code("P14", "NOTYET", activation_limit="3"),
        _code("P15", "NUM"),
        _code("P16", "NEWC"),
        _code("P17", "OLD", ends_at="2025-02-01 00:00"),
        _code("P18", "OLDNOACT", ends_at="2025-02-01 00:00"),
        _code("P19", "FUTURE", starts_at="2025-04-01 00:00"),
        _code("P20", "ENDSFROM", ends_at="2025-03-01 00:00"),
        _code("P21", "SAME", starts_at="2025-03-31 23:59"),
        _code(
            "P22",
            "ALL",
            activation_limit="5",
            bonus_per_activation="100.00",
            planned_activations="1",
        ),
        _code("E1", "EKB1", "ekb"),
        _code("E2", "EKB2", "ekb"),
        _code("E3", "SAME", "ekb"),
    ],
    "promo_activations": [
        *(_act(f"a01_{d}", "P01", "c_a", f"2025-03-0{d + 1} 10:00") for d in range(1, 6)),
        *(_act(f"a02_{d}", "P02", "c_b", f"2025-03-0{d + 1} 10:00") for d in range(1, 5)),
        _act("a03_1", "P03", "c_a", "2025-03-07 10:00", "500.00"),
        _act("a04_1", "P04", "c_a", "2025-03-07 11:00", "500.00"),
        _act("a04_2", "P04", "c_b", "2025-03-07 12:00", "500.00"),
        _act("a04_3", "P04", "c_t", "2025-03-07 13:00", "500.01"),
        _act("a05_1", "P05", "c_a", "2025-03-08 10:00", "70.00"),
        _act("a05_2", "P05", "c_b", "2025-03-08 11:00", "70.00"),
        _act("a05_3", "P05", "c_t", "2025-03-08 12:00", "70.00"),
        _act("a06_1", "P06", "c_a", "2025-03-08 10:00", "100.00"),
        _act("a06_2", "P06", "c_b", "2025-03-08 11:00", "100.00"),
        _act("a07_1", "P07", "c_a", "2025-03-09 10:00", "300.00"),
        _act("a07_2", "P07", "c_b", "2025-03-09 11:00", "300.00"),
        _act("a08_1", "P08", "c_a", "2025-03-09 10:00", "300.00"),
        _act("a08_2", "P08", "c_b", "2025-03-09 11:00", "300.05"),
        _act("a09_1", "P09", "c_a", "2025-03-10 10:00", "100.00"),
        _act("a10_1", "P10", "c_a", "2025-03-10 10:00", "100.00"),
        _act("a11_1", "P11", "c_a", "2025-03-02 10:00"),
        _act("a11_2", "P11", "c_b", "2025-03-03 10:00"),
        _act("a13_1", "P13", "c_a", "2025-02-10 10:00"),
        _act("a13_2", "P13", "c_b", "2025-03-10 10:00"),
        _act("a13_3", "P13", "c_t", "2025-03-11 10:00"),
        _act("a14_1", "P14", "c_a", "2025-03-10 10:00"),
        _act("a14_2", "P14", "c_b", "2025-03-11 10:00"),
        _act("a14_3", "P14", "c_t", "2025-04-01 00:00"),
        _act("a15_1", "P15", "c_a", "2025-02-20 10:00"),
        _act("a15_2", "P15", "c_a", "2025-03-05 10:00"),
        _act("a15_3", "P15", "c_a", "2025-03-10 10:00"),
        _act("a15_4", "P15", "c_a", "2025-03-10 10:00"),
        _act("a16_r0", "P16", "c_r", "2025-02-20 10:00"),
        _act("a16_p", "P16", "c_p", "2025-03-05 10:00"),
        _act("a16_q", "P16", "c_q_ekb", "2025-03-05 10:00"),
        _act("a16_r", "P16", "c_r", "2025-03-05 10:00"),
        _act("a16_t1", "P16", "c_t", "2025-03-05 10:00"),
        _act("a16_t2", "P16", "c_t", "2025-03-25 10:00"),
        _act("a17_1", "P17", "c_b", "2025-03-03 10:00"),
        _act("a18_1", "P18", "c_b", "2025-01-15 10:00"),
        *(_act(f"a22_{h}", "P22", "c_b", f"2025-03-12 {h}:00", "600.00") for h in range(10, 15)),
        _act("e1_1", "E1", "c_p_ekb", "2025-03-05 11:30", "100.00"),
        _act("e1_2", "E1", "c_p_ekb", "2025-03-31 23:30", "100.00"),
        _act("e1_3", "E1", "c_q_ekb", "2025-04-01 00:30", "100.00"),
        _act("e2_1", "E2", "c_p_ekb", "2025-03-10 12:00", "50.00"),
        _act("e2_2", "E2", "c_u_ekb", "2025-03-10 13:00", "25.00"),
        _act("e2_3", "E2", "c_u_ekb", "2025-03-11 12:00", "25.00"),
    ],
}


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = build_warehouse(tmp_path_factory.mktemp("r4"), EXTRACTS)
    connection = base.connect(path)
    yield connection
    connection.close()


def _run(con: duckdb.DuckDBPyConnection, **params: Any) -> ReportResult:
    return promo_codes.run(con, {**MARCH, **params}, "analyst", datetime(2025, 1, 1))


@pytest.fixture(scope="module")
def march(con: duckdb.DuckDBPyConnection) -> ReportResult:
    return _run(con)


def _code_row(result: ReportResult, promo_code_id: str) -> dict[str, Any]:
    (row,) = [r for r in result.section("codes").rows if r["promo_code_id"] == promo_code_id]
    return row


def test_sections_and_field_names_are_the_contract(march: ReportResult) -> None:
    assert [s.key for s in march.sections] == ["codes", "totals", "activations"]
    assert [c.name for c in march.section("codes").columns] == [
        "promo_code_id",
        "code",
        "campaign",
        "activations",
        "reach",
        "bonuses_issued",
        "cost_per_activation",
        "planned_budget",
        "budget_variance_pct",
        "new_customer_share",
        "status",
        "signals",
    ]
    assert [c.name for c in march.section("totals").columns] == [
        "codes",
        "activations",
        "bonuses_issued",
        "cost_per_activation",
        "reach",
    ]
    assert [c.name for c in march.section("activations").columns] == [
        "activation_id",
        "activated_at",
        "code",
        "chain_client_id",
        "client_name",
        "bonus_amount",
        "activation_number",
        "is_new_customer",
    ]


def test_rows_are_codes_overlapping_the_period_or_activated_in_it_sorted_by_code(
    march: ReportResult,
) -> None:
    # Listed: every code valid at some point of [03-01, 04-01) or activated in it.
    # OLD (P17) was valid until 02-01 only but has an activation on 03-03 -> listed.
    # SAME (P21) starts at 03-31 23:59, inside the period -> listed.
    # Not listed: OLDNOACT (P18, valid until 02-01, only a January activation), FUTURE (P19,
    # starts at 04-01 00:00 = to), ENDSFROM (P20, ends at 03-01 00:00 = from: [.., from)
    # does not overlap [from, ..)).
    # Order: code, then promo_code_id (the two SAME codes: E3 < P21).
    assert [(r["code"], r["promo_code_id"]) for r in march.section("codes").rows] == [
        ("ALL", "P22"),
        ("EARLY", "P13"),
        ("EKB1", "E1"),
        ("EKB2", "E2"),
        ("ENDSTO", "P12"),
        ("GEN500", "P03"),
        ("GEN501", "P04"),
        ("LEAK4", "P02"),
        ("LEAK5", "P01"),
        ("LIMITEND", "P11"),
        ("NEWC", "P16"),
        ("NOPLAN", "P09"),
        ("NOTYET", "P14"),
        ("NUM", "P15"),
        ("OLD", "P17"),
        ("ONPLAN", "P06"),
        ("OVER", "P05"),
        ("SAME", "E3"),
        ("SAME", "P21"),
        ("VAR20", "P07"),
        ("VAR2001", "P08"),
        ("ZEROPLAN", "P10"),
    ]


def test_activation_outside_validity_still_counts(march: ReportResult) -> None:
    # OLD: valid [01-01, 02-01); B activated on 03-03 for 10.00 -> 1 activation, reach 1,
    # 10.00 issued; ended (02-01 <= to).
    row = _code_row(march, "P17")
    assert (row["activations"], row["reach"], row["bonuses_issued"]) == (1, 1, Decimal("10"))
    assert row["status"] == "ended"


def test_code_without_activations_in_the_period(march: ReportResult) -> None:
    # ENDSTO: no activation at all -> 0 activations, 0 reach, 0.00 issued; cost and new
    # share have a zero denominator -> null; no planned budget factors -> null.
    row = _code_row(march, "P12")
    assert row["activations"] == 0 and row["reach"] == 0
    assert row["bonuses_issued"] == Decimal("0")
    assert row["cost_per_activation"] is None and row["new_customer_share"] is None
    assert row["planned_budget"] is None and row["budget_variance_pct"] is None
    assert row["campaign"] == "Campaign ENDSTO"


def test_status_limit_reached_beats_ended(march: ReportResult) -> None:
    # LIMITEND: limit 2, A on 03-02 and B on 03-03 -> 2 activations before to reach the limit;
    # it also ended (03-15 <= to) but limit_reached comes first. Ended before `to` -> not early.
    row = _code_row(march, "P11")
    assert row["status"] == "limit_reached"
    assert row["signals"] == []


def test_status_ended_when_ends_at_equals_to(march: ReportResult) -> None:
    # ENDSTO: ends_at 04-01 00:00 = to -> ends_at <= to -> ended (limit 5 not reached: 0).
    assert _code_row(march, "P12")["status"] == "ended"


def test_status_active_counts_only_activations_before_to(march: ReportResult) -> None:
    # NOTYET: limit 3; activations 03-10, 03-11 and 04-01 00:00 (= to, not before it) -> 2 < 3,
    # open-ended -> active. In the period: 2 activations, reach 2 (A, B).
    row = _code_row(march, "P14")
    assert row["status"] == "active"
    assert (row["activations"], row["reach"]) == (2, 2)
    assert row["signals"] == []


def test_limit_reached_early_counts_activations_before_the_period(march: ReportResult) -> None:
    # EARLY: limit 3; A on 02-10 (before the period), B 03-10, T 03-11 -> 3 before to ->
    # limit_reached; ends 06-01 after to -> limit_reached_early. Period: 2 activations, reach 2,
    # 20.00 issued, cost 10.00.
    row = _code_row(march, "P13")
    assert row["status"] == "limit_reached"
    assert row["signals"] == ["limit_reached_early"]
    assert (row["activations"], row["reach"]) == (2, 2)
    assert row["cost_per_activation"] == Decimal("10.00")


def test_leak_suspected_at_five_to_one_not_four(march: ReportResult) -> None:
    # LEAK5: 5 activations by A -> 5 / 1 >= 5 -> leak. LEAK4: 4 by B -> 4 < 5 -> none.
    leak5, leak4 = _code_row(march, "P01"), _code_row(march, "P02")
    assert (leak5["activations"], leak5["reach"], leak5["signals"]) == (5, 1, ["leak_suspected"])
    assert (leak4["activations"], leak4["reach"], leak4["signals"]) == (4, 1, [])


def test_too_generous_on_exact_cost_above_half_aov(march: ReportResult) -> None:
    # Half the msk AOV is 500 (module docstring).
    # GEN500: one 500.00 activation -> cost 500 = 0.5 x AOV, not above -> no signal.
    # GEN501: 500.00 + 500.00 + 500.01 = 1500.01 / 3 = 500.00333.. -> shown as 500.00 but
    # exactly above 500 -> too_generous.
    gen500, gen501 = _code_row(march, "P03"), _code_row(march, "P04")
    assert gen500["cost_per_activation"] == Decimal("500.00")
    assert gen500["signals"] == []
    assert gen501["bonuses_issued"] == Decimal("1500.01")
    assert gen501["cost_per_activation"] == Decimal("500.00")
    assert gen501["signals"] == ["too_generous"]


def test_over_budget_and_variance_high_thresholds(march: ReportResult) -> None:
    # OVER: planned 100.00 x 2 = 200.00; issued 3 x 70.00 = 210.00 > 200 -> over_budget;
    #   variance (210 - 200) / 200 x 100 = 5.00, not high.
    # ONPLAN: planned 200.00, issued 2 x 100.00 = 200.00 -> not over; variance 0.00.
    # VAR20: planned 100.00 x 5 = 500.00, issued 600.00 -> over; variance 20.00, not > 20.
    # VAR2001: planned 500.00, issued 300.00 + 300.05 = 600.05 -> over;
    #   variance 100.05 / 500 x 100 = 20.01 > 20 -> variance_high (after over_budget).
    expected = {
        "P05": ("200", "210", "5.00", ["over_budget"]),
        "P06": ("200", "200", "0.00", []),
        "P07": ("500", "600", "20.00", ["over_budget"]),
        "P08": ("500", "600.05", "20.01", ["over_budget", "variance_high"]),
    }
    for code_id, (planned, issued, variance, signals) in expected.items():
        row = _code_row(march, code_id)
        assert row["planned_budget"] == Decimal(planned), code_id
        assert row["bonuses_issued"] == Decimal(issued), code_id
        assert row["budget_variance_pct"] == Decimal(variance), code_id
        assert row["signals"] == signals, code_id


def test_planned_budget_null_factor_and_zero_budget(march: ReportResult) -> None:
    # NOPLAN: planned_activations missing -> planned null, variance null, no budget signal.
    # ZEROPLAN: 100.00 x 0 = 0.00 -> variance null (zero planned budget); issued 100.00 > 0.00
    # -> over_budget, read literally.
    noplan, zeroplan = _code_row(march, "P09"), _code_row(march, "P10")
    assert (noplan["planned_budget"], noplan["budget_variance_pct"]) == (None, None)
    assert noplan["signals"] == []
    assert zeroplan["planned_budget"] == Decimal("0")
    assert zeroplan["budget_variance_pct"] is None
    assert zeroplan["signals"] == ["over_budget"]


def test_signals_in_spec_order(march: ReportResult) -> None:
    # ALL: 5 x 600.00 by B on 03-12, limit 5, open-ended, planned 100.00 x 1 = 100.00.
    # leak 5/1 >= 5; cost 600 > 500; 3000 > 100; variance 2900.00 > 20; limit 5 reached
    # before to and open-ended -> all five, in the spec's order.
    row = _code_row(march, "P22")
    assert row["budget_variance_pct"] == Decimal("2900.00")
    assert row["status"] == "limit_reached"
    assert row["signals"] == [
        "leak_suspected",
        "too_generous",
        "over_budget",
        "variance_high",
        "limit_reached_early",
    ]


def test_new_customer_share_uses_first_activation_in_the_period(march: ReportResult) -> None:
    # NEWC at msk, period activators:
    #   P - only realization at ekb (another club) -> new;
    #   Q - activated with the ekb record, realization at msk on 02-15 by the msk record (same
    #       chain client) -> not new;
    #   R - first activation ever 02-20 (new then), realization at msk 02-25, first activation
    #       in the period 03-05 -> not new;
    #   T - activations 03-05 and 03-25, realization at msk 03-20 only after the first -> new.
    # 2 new / reach 4 = 0.50. Activations 5 -> 5 / 4 < 5, no leak; 50.00 issued.
    row = _code_row(march, "P16")
    assert (row["activations"], row["reach"]) == (5, 4)
    assert row["new_customer_share"] == Decimal("0.50")
    assert row["bonuses_issued"] == Decimal("50")
    assert row["signals"] == []


def test_period_is_local_time_of_the_code_club(march: ReportResult) -> None:
    # EKB1 (UTC+5): 03-05 11:30 and 03-31 23:30 local are in; 04-01 00:30 local (03-31 22:30 in
    # Moscow) is not. 2 activations by P, 200.00, cost 100.00; P had a realization at ekb on
    # 02-15 -> not new -> share 0 / 1 = 0.00; AOV(ekb) 3000 -> 100 is not too generous.
    row = _code_row(march, "E1")
    assert (row["activations"], row["reach"], row["bonuses_issued"]) == (2, 1, Decimal("200"))
    assert row["cost_per_activation"] == Decimal("100.00")
    assert row["new_customer_share"] == Decimal("0.00")
    assert (row["status"], row["signals"]) == ("active", [])


def test_totals_count_activated_codes_and_distinct_reach_across_codes(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # ekb: EKB1 2 x 100.00 by P; EKB2 P 50.00, U 25.00 + 25.00; SAME (E3) has none.
    # codes 2 (E3 not counted), activations 5, bonuses 300.00, cost 300 / 5 = 60.00,
    # reach {P, U} = 2 (EKB1 reach 1 + EKB2 reach 2 would be 3).
    result = _run(con, location="ekb")
    assert [r["promo_code_id"] for r in result.section("codes").rows] == ["E1", "E2", "E3"]
    ekb2 = _code_row(result, "E2")
    # EKB2: cost 100 / 3 = 33.33; P not new, U new -> 1 / 2 = 0.50.
    assert ekb2["cost_per_activation"] == Decimal("33.33")
    assert ekb2["new_customer_share"] == Decimal("0.50")
    assert result.section("totals").record == {
        "codes": 2,
        "activations": 5,
        "bonuses_issued": Decimal("300"),
        "cost_per_activation": Decimal("60.00"),
        "reach": 2,
    }


def test_totals_over_both_clubs(march: ReportResult) -> None:
    # Per code in the period (activations, bonuses):
    #   LEAK5 5, 50.00; LEAK4 4, 40.00; GEN500 1, 500.00; GEN501 3, 1500.01; OVER 3, 210.00;
    #   ONPLAN 2, 200.00; VAR20 2, 600.00; VAR2001 2, 600.05; NOPLAN 1, 100.00;
    #   ZEROPLAN 1, 100.00; LIMITEND 2, 20.00; EARLY 2, 20.00; NOTYET 2, 20.00; NUM 3, 30.00;
    #   NEWC 5, 50.00; OLD 1, 10.00; ALL 5, 3000.00; EKB1 2, 200.00; EKB2 3, 100.00.
    # codes 19 (ENDSTO, both SAME without activations); activations 49; bonuses 7350.06;
    # cost 7350.06 / 49 = 150.0012.. -> 150.00; reach {A, B, T, P, Q, R, U} = 7 (P activated
    # at both clubs, counted once).
    assert march.section("totals").record == {
        "codes": 19,
        "activations": 49,
        "bonuses_issued": Decimal("7350.06"),
        "cost_per_activation": Decimal("150.00"),
        "reach": 7,
    }


def test_activation_numbers_count_all_time(march: ReportResult) -> None:
    # NUM: A activated on 02-20 (before the period: 1st), 03-05 (2nd), and twice at 03-10 10:00
    # (a15_3 then a15_4 by activation_id: 3rd, 4th). Only the period's rows are listed.
    # NEWC: R's 03-05 activation is their 2nd (02-20 was the 1st).
    detail = {r["activation_id"]: r for r in march.section("activations").rows}
    assert "a15_1" not in detail
    assert [detail[a]["activation_number"] for a in ("a15_2", "a15_3", "a15_4")] == [2, 3, 4]
    assert detail["a16_r"]["activation_number"] == 2


def test_activation_is_new_customer_per_activation(march: ReportResult) -> None:
    # T: no realization at msk before 03-05 -> new; a realization on 03-20 -> the 03-25
    # activation is not new. Q's activation by the ekb record: Q's msk record bought 02-15.
    detail = {r["activation_id"]: r for r in march.section("activations").rows}
    assert detail["a16_t1"]["is_new_customer"] is True
    assert detail["a16_t2"]["is_new_customer"] is False
    assert detail["a16_q"]["is_new_customer"] is False
    assert detail["a16_q"]["client_name"] == "Quinn"
    assert detail["a16_q"]["code"] == "NEWC"
    assert detail["a16_q"]["bonus_amount"] == Decimal("10")
    assert detail["a16_q"]["activated_at"] == datetime(2025, 3, 5, 10, 0)


def test_activation_detail_sorted_by_absolute_time_then_name_then_id(march: ReportResult) -> None:
    # On 03-05: e1_1 at 11:30 Yekaterinburg = 06:30 UTC comes before the Moscow 10:00 ones
    # (07:00 UTC), although its local time is later; equal instants fall back to client_name
    # (Anna: a01_4, a15_2 by id; Boris a02_4; Pavel; Quinn; Roman; Tanya), then the id.
    detail = march.section("activations").rows
    march_5 = date(2025, 3, 5)
    on_march_5 = [r["activation_id"] for r in detail if r["activated_at"].date() == march_5]
    assert on_march_5 == [
        "e1_1",
        "a01_4",
        "a15_2",
        "a02_4",
        "a16_p",
        "a16_q",
        "a16_r",
        "a16_t1",
    ]
    # Period activations of every listed code: 49 (see the totals), none outside the period.
    assert len(detail) == 49


def test_refuses_to_not_after_from(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ReportError, match="--to must be after --from"):
        _run(con, **{"from": "2025-03-01T10:00", "to": "2025-03-01T10:00"})
    with pytest.raises(ReportError, match="--to must be after --from"):
        _run(con, **{"from": "2025-04-01", "to": "2025-03-01"})


def test_refuses_missing_period_and_unknown_location(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ReportError, match="required"):
        promo_codes.run(con, {"from": "2025-03-01"}, "analyst", datetime(2025, 1, 1))
    with pytest.raises(ReportError, match="unknown location 'nowhere'"):
        _run(con, location="nowhere")


def test_location_is_bound_not_formatted_into_sql(con: duckdb.DuckDBPyConnection) -> None:
    # A value that would break out of a quoted literal is just an unknown location.
    (before,) = con.execute("select count(*) from marts.fct_sales").fetchone()
    with pytest.raises(ReportError, match="unknown location"):
        _run(con, location="x'; drop table marts.fct_sales; --")
    (after,) = con.execute("select count(*) from marts.fct_sales").fetchone()
    assert before == after == 11  # 12 sales, one a draft
