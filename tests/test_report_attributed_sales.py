"""R5 attributed sales over a real warehouse built from hand-written extracts.

One warehouse holds every scenario. Period: March 2025, [2025-03-01, 2025-04-01), local time.
Stores: s1 and s3 in Europe/Moscow (UTC+3), s2 in Asia/Yekaterinburg (UTC+5).
Associates: emp1 Olga, emp2 Ivan, emp3 Kate.

Realizations with a client in March (UTC in brackets) and the client's activities:
  X4  s2 k4   40.00 03-12 11:00 (06:00)  a4 emp2 Call at s1 03-11 06:00 MSK (03:00) = 27 h
  X5  s1 k5  200.00 03-12 10:00 (07:00)  a5b emp2 "AI activity" 03-10 10:00 (2 days),
                                          a5a emp1 Message 03-11 10:00 (1 day)
  X6  s1 k6  -50.00 03-14 10:00 (07:00)  a6 emp1 Message 03-13 10:00 (1 day)   -- a refund
  X1  s1 k1  100.00 03-15 12:00 (09:00)  a1 emp1 Message 03-01 12:00 MSK: exactly 14 days
  X2  s1 k2   80.00 03-15 12:00 (09:00)  a2 emp3 Call at s2 03-01 13:59 EKB (08:59 UTC):
                                          14 days + 1 minute (wall clocks: 13 days 22 h)
  X11 s1 ghost 20.00 03-16 10:00 (07:00) ag emp1 Message 03-15 10:00 (1 day); no client record
  X3  s1 k3   60.00 03-20 12:00 (09:00)  a3 emp1 Message 03-20 12:01, after the purchase
  Y1  s3 k7  100.00 03-18 10:00 (07:00)  y1c emp3 message 03-16 10:00, y1a emp1 Message and
                                          y1b emp2 Call both 03-17 10:00
  Y2  s3 k8  100.00 03-22 10:00 (07:00)  y2c (no associate) call 03-19, y2a emp1 Reminder 03-20,
                                          y2b emp1 message 03-21, all 10:00
  Y4  s3 k10 300.00 03-23 10:00          no activity
Not in the period or without a client: X10 (s2, 04-01 00:30 EKB = 03-31 22:30 in Moscow),
Y6 (s3, 04-02), Y5 (s3, anonymous 1000.00).

With the default 14-day window: attributed X4, X5, X6, X1, X11, Y1, Y2 (not X2, X3, Y4).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pytest
import yaml

from crm_analytics.contract import DBT_PROJECT_FILE
from crm_analytics.reports import attributed_sales, base
from crm_analytics.reports.errors import ReportError
from crm_analytics.reports.result import ReportResult
from tests.pipeline import build_warehouse

pytestmark = pytest.mark.slow

MARCH = {"from": "2025-03-01", "to": "2025-04-01"}


def _sale(sale_id: str, store: str, client: str, amount: str, posted_at: str) -> dict[str, str]:
    return {
        "sale_id": sale_id,
        "location_id": store,
        "client_id": client,
        "amount": amount,
        "status": "posted",
        "posted_at": posted_at,
        "created_at": "2025-01-01 09:00",
    }


def _activity(
    activity_id: str, client: str, store: str, associate: str, kind: str, occurred_at: str
) -> dict[str, str]:
    return {
        "activity_id": activity_id,
        "client_id": client,
        "location_id": store,
        "associate_id": associate,
        "activity_type": kind,
        "occurred_at": occurred_at,
    }


CLIENT_NAMES = {
    "k1": "Alla",
    "k2": "Boris",
    "k3": "Vera",
    "k4": "Gleb",
    "k5": "Dina",
    "k6": "Egor",
    "k7": "Zoya",
    "k8": "Igor",
    "k10": "Lev",
}

EXTRACTS: dict[str, list[dict[str, Any]]] = {
    "locations": [
        {"location_id": "s1", "name": "Store 1", "timezone": "Europe/Moscow"},
        {"location_id": "s2", "name": "Store 2", "timezone": "Asia/Yekaterinburg"},
        {"location_id": "s3", "name": "Store 3", "timezone": "Europe/Moscow"},
    ],
    "specialists": [
        {"specialist_id": "emp1", "location_id": "s1", "name": "Olga"},
        {"specialist_id": "emp2", "location_id": "s1", "name": "Ivan"},
        {"specialist_id": "emp3", "location_id": "s2", "name": "Kate"},
    ],
    "clients": [
        {
            "client_id": client_id,
            "location_id": "s1",
            "name": name,
            "phone": f"+7 900 100-00-{n:02d}",
            "registered_at": "2024-01-01 10:00",
        }
        for n, (client_id, name) in enumerate(CLIENT_NAMES.items(), start=1)
    ],
    "sales": [
        _sale("X1", "s1", "k1", "100.00", "2025-03-15 12:00"),
        _sale("X2", "s1", "k2", "80.00", "2025-03-15 12:00"),
        _sale("X3", "s1", "k3", "60.00", "2025-03-20 12:00"),
        _sale("X4", "s2", "k4", "40.00", "2025-03-12 11:00"),
        _sale("X5", "s1", "k5", "200.00", "2025-03-12 10:00"),
        _sale("X6", "s1", "k6", "-50.00", "2025-03-14 10:00"),
        _sale("X10", "s2", "k4", "10.00", "2025-04-01 00:30"),
        _sale("X11", "s1", "ghost", "20.00", "2025-03-16 10:00"),
        _sale("Y1", "s3", "k7", "100.00", "2025-03-18 10:00"),
        _sale("Y2", "s3", "k8", "100.00", "2025-03-22 10:00"),
        _sale("Y4", "s3", "k10", "300.00", "2025-03-23 10:00"),
        _sale("Y5", "s3", "", "1000.00", "2025-03-23 11:00"),
        _sale("Y6", "s3", "k7", "500.00", "2025-04-02 10:00"),
    ],
    "activities": [
        _activity("a1", "k1", "s1", "emp1", "Message", "2025-03-01 12:00"),
        _activity("a2", "k2", "s2", "emp3", "Call", "2025-03-01 13:59"),
        _activity("a3", "k3", "s1", "emp1", "Message", "2025-03-20 12:01"),
        _activity("a4", "k4", "s1", "emp2", "Call", "2025-03-11 06:00"),
        _activity("a5a", "k5", "s1", "emp1", "Message", "2025-03-11 10:00"),
        _activity("a5b", "k5", "s1", "emp2", "AI activity", "2025-03-10 10:00"),
        _activity("a6", "k6", "s1", "emp1", "Message", "2025-03-13 10:00"),
        _activity("a10", "k4", "s2", "emp3", "Call", "2025-03-31 12:00"),
        _activity("ag", "ghost", "s1", "emp1", "Message", "2025-03-15 10:00"),
        _activity("y1a", "k7", "s3", "emp1", "Message", "2025-03-17 10:00"),
        _activity("y1b", "k7", "s3", "emp2", "Call", "2025-03-17 10:00"),
        _activity("y1c", "k7", "s3", "emp3", "message", "2025-03-16 10:00"),
        _activity("y2a", "k8", "s3", "emp1", "Reminder", "2025-03-20 10:00"),
        _activity("y2b", "k8", "s3", "emp1", "message", "2025-03-21 10:00"),
        _activity("y2c", "k8", "s3", "", "call", "2025-03-19 10:00"),
    ],
}


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = build_warehouse(tmp_path_factory.mktemp("r5"), EXTRACTS)
    connection = base.connect(path)
    yield connection
    connection.close()


def _run(con: duckdb.DuckDBPyConnection, **params: Any) -> ReportResult:
    return attributed_sales.run(con, {**MARCH, **params}, "analyst", datetime(2025, 1, 1))


@pytest.fixture(scope="module")
def march(con: duckdb.DuckDBPyConnection) -> ReportResult:
    return _run(con)


def _purchase(result: ReportResult, sale_id: str) -> dict[str, Any]:
    (row,) = [r for r in result.section("purchases").rows if r["sale_id"] == sale_id]
    return row


def _sale_ids(result: ReportResult) -> list[str]:
    return [r["sale_id"] for r in result.section("purchases").rows]


def _credit(result: ReportResult) -> list[tuple[str | None, int, Decimal, Decimal]]:
    return [
        (r["associate_id"], r["last_touch_sales"], r["last_touch_amount"], r["linear_amount"])
        for r in result.section("associates").rows
    ]


def test_sections_and_field_names_are_the_contract(march: ReportResult) -> None:
    names = {s.key: [c.name for c in s.columns] for s in march.sections}
    assert names == {
        "summary": [
            "attributed_sales",
            "attributed_amount",
            "related_activities",
            "activity_types",
            "total_sales",
            "total_amount",
            "attributed_share",
        ],
        "by_type": ["activity_type", "activities"],
        "daily": ["date", "attributed_sales", "attributed_amount"],
        "purchases": [
            "sale_id",
            "posted_at",
            "chain_client_id",
            "client_name",
            "amount",
            "activities",
            "timeline",
        ],
        "associates": [
            "associate_id",
            "associate_name",
            "last_touch_sales",
            "last_touch_amount",
            "linear_amount",
        ],
    }
    timeline = march.section("purchases").columns[-1]
    assert [f.name for f in timeline.fields] == [
        "activity_id",
        "occurred_at",
        "activity_type",
        "associate_id",
        "associate_name",
        "days_before",
    ]
    assert march.section("daily").chart is not None
    assert march.params["window_days"] == 14


def test_purchases_sorted_by_absolute_posting_time(march: ReportResult) -> None:
    # X4 at 11:00 Yekaterinburg (06:00 UTC) precedes X5 at 10:00 Moscow (07:00 UTC).
    assert _sale_ids(march) == ["X4", "X5", "X6", "X1", "X11", "Y1", "Y2"]


def test_window_edge_exactly_14_days_is_attributed(march: ReportResult) -> None:
    # X1 03-15 12:00 vs a1 03-01 12:00, same zone: exactly 14 x 24 h -> inside; 14.00 days.
    x1 = _purchase(march, "X1")
    assert [(t["activity_id"], t["days_before"]) for t in x1["timeline"]] == [
        ("a1", Decimal("14.00"))
    ]


def test_window_edge_14_days_and_a_minute_is_not_attributed(
    con: duckdb.DuckDBPyConnection, march: ReportResult
) -> None:
    # X2 09:00 UTC 03-15 vs a2 08:59 UTC 03-01 (13:59 Yekaterinburg): 14 days 1 minute in
    # absolute time, though the wall clocks are only 13 days 22 hours apart -> not attributed.
    assert "X2" not in _sale_ids(march)
    # A 15-day window takes it in: 8 sales, 510.00 + 80.00 = 590.00.
    wider = _run(con, window_days=15)
    assert "X2" in _sale_ids(wider)
    summary = wider.section("summary").record
    assert (summary["attributed_sales"], summary["attributed_amount"]) == (8, Decimal("590"))


def test_activity_after_the_purchase_does_not_attribute(march: ReportResult) -> None:
    # X3 posted 03-20 12:00, its only activity a3 at 12:01 -> not attributed.
    assert "X3" not in _sale_ids(march)


def test_activity_at_another_store_counts_and_days_before(march: ReportResult) -> None:
    # X4 at s2, a4 at s1: 03-12 06:00 UTC - 03-11 03:00 UTC = 27 h -> 27 / 24 = 1.125 -> 1.13
    # (half away from zero).
    x4 = _purchase(march, "X4")
    assert x4["timeline"] == [
        {
            "activity_id": "a4",
            "occurred_at": datetime(2025, 3, 11, 6, 0),
            "activity_type": "call",
            "associate_id": "emp2",
            "associate_name": "Ivan",
            "days_before": Decimal("1.13"),
        }
    ]
    assert (x4["posted_at"], x4["client_name"], x4["amount"]) == (
        datetime(2025, 3, 12, 11, 0),
        "Gleb",
        Decimal("40"),
    )


def test_client_without_record_has_null_name(march: ReportResult) -> None:
    # X11 and ag belong to client_id "ghost" with no client record: key client:ghost, no name.
    x11 = _purchase(march, "X11")
    assert x11["client_name"] is None
    assert x11["chain_client_id"] is not None
    assert [t["activity_id"] for t in x11["timeline"]] == ["ag"]


def test_timeline_oldest_first_ties_by_activity_id(march: ReportResult) -> None:
    # Y1: y1c 03-16, then y1a and y1b both 03-17 10:00 -> y1a before y1b. 3 activities.
    y1 = _purchase(march, "Y1")
    assert [t["activity_id"] for t in y1["timeline"]] == ["y1c", "y1a", "y1b"]
    assert y1["activities"] == 3
    # Y2's y2c has no associate: id and name null.
    y2 = _purchase(march, "Y2")
    assert [(t["activity_id"], t["associate_id"], t["associate_name"]) for t in y2["timeline"]] == [
        ("y2c", None, None),
        ("y2a", "emp1", "Olga"),
        ("y2b", "emp1", "Olga"),
    ]


def test_summary_totals_and_share_refund_included(march: ReportResult) -> None:
    # Attributed: X4 40 + X5 200 + X6 -50 + X1 100 + X11 20 + Y1 100 + Y2 100 = 510.00 (the
    # refund lowers it), 7 sales. Activities in their windows: a4, a5a, a5b, a6, a1, ag, y1a-c,
    # y2a-c = 12; types message, call, ai_activity, reminder = 4.
    # Totals, every realization with a client in March: the 7 + X2 80 + X3 60 + Y4 300 ->
    # 10 sales, 950.00 (not Y5 anonymous, X10 / Y6 outside). Share 510 / 950 = 0.5368.. -> 0.54.
    assert march.section("summary").record == {
        "attributed_sales": 7,
        "attributed_amount": Decimal("510"),
        "related_activities": 12,
        "activity_types": 4,
        "total_sales": 10,
        "total_amount": Decimal("950"),
        "attributed_share": Decimal("0.54"),
    }
    assert _purchase(march, "X6")["amount"] == Decimal("-50")


def test_by_type_sorted_by_activities_then_type(march: ReportResult) -> None:
    # message: a1, a5a, a6, ag, y1a, y1c, y2b = 7; call: a4, y1b, y2c = 3; ai_activity 1 and
    # reminder 1 (tie -> by name).
    assert [(r["activity_type"], r["activities"]) for r in march.section("by_type").rows] == [
        ("message", 7),
        ("call", 3),
        ("ai_activity", 1),
        ("reminder", 1),
    ]


def test_daily_one_row_per_local_posting_date(march: ReportResult) -> None:
    # 03-12: X4 (s2) + X5 (s1) = 2 sales, 240.00; then one sale a day.
    assert [
        (r["date"], r["attributed_sales"], r["attributed_amount"])
        for r in march.section("daily").rows
    ] == [
        (date(2025, 3, 12), 2, Decimal("240")),
        (date(2025, 3, 14), 1, Decimal("-50")),
        (date(2025, 3, 15), 1, Decimal("100")),
        (date(2025, 3, 16), 1, Decimal("20")),
        (date(2025, 3, 18), 1, Decimal("100")),
        (date(2025, 3, 22), 1, Decimal("100")),
    ]


def test_associates_last_touch_and_linear_credit(march: ReportResult) -> None:
    # Last touch: X4 emp2 40; X5 a5a emp1 200; X6 emp1 -50; X1 emp1 100; X11 emp1 20;
    #   Y1 tie y1a/y1b at 03-17 10:00 -> greatest id y1b emp2 100; Y2 y2b emp1 100.
    #   emp1: 5 sales, 200 - 50 + 100 + 20 + 100 = 370.00; emp2: 2 sales, 140.00.
    # Linear: X4 40 -> emp2; X5 200 / 2 -> emp1 100, emp2 100; X6, X1, X11 whole to emp1;
    #   Y1 100 / 3 to emp1, emp2, emp3; Y2 100 / 3 to emp1 twice and to no associate.
    #   emp1 100 - 50 + 100 + 20 + 100/3 + 200/3 = 270.00; emp2 40 + 100 + 100/3 = 173.33;
    #   emp3 33.33; null 33.33 (exact sum 510).
    # emp3 and null tie at 0 last-touch -> the null associate last.
    assert _credit(march) == [
        ("emp1", 5, Decimal("370"), Decimal("270.00")),
        ("emp2", 2, Decimal("140"), Decimal("173.33")),
        ("emp3", 0, Decimal("0"), Decimal("33.33")),
        (None, 0, Decimal("0"), Decimal("33.33")),
    ]
    names = [r["associate_name"] for r in march.section("associates").rows]
    assert names == ["Olga", "Ivan", "Kate", None]


def test_store_filter_and_linear_split_rounded_once(con: duckdb.DuckDBPyConnection) -> None:
    # s3 only: Y1 and Y2 attributed (200.00), Y4 not; totals Y1 + Y2 + Y4 = 3 sales, 500.00
    # (Y5 anonymous) -> share 0.40. Activities y1a-c, y2a-c = 6; types message, call,
    # reminder = 3.
    # Linear: Y1 100.00 over 3 -> 33.33 each to emp1, emp2, emp3; Y2 -> emp1 2 x 100/3 and
    # null 100/3. emp1 = 100/3 + 200/3 = 100.00 exactly (rounding each share first would give
    # 99.99). Last touch: Y1 emp2, Y2 emp1, 100.00 each -> tie, by associate_id.
    result = _run(con, store="s3")
    assert _sale_ids(result) == ["Y1", "Y2"]
    assert result.section("summary").record == {
        "attributed_sales": 2,
        "attributed_amount": Decimal("200"),
        "related_activities": 6,
        "activity_types": 3,
        "total_sales": 3,
        "total_amount": Decimal("500"),
        "attributed_share": Decimal("0.40"),
    }
    assert _credit(result) == [
        ("emp1", 1, Decimal("100"), Decimal("100.00")),
        ("emp2", 1, Decimal("100"), Decimal("33.33")),
        ("emp3", 0, Decimal("0"), Decimal("33.33")),
        (None, 0, Decimal("0"), Decimal("33.33")),
    ]


def test_associate_filter_restricts_activities(con: duckdb.DuckDBPyConnection) -> None:
    # emp2's activities: a4 (X4), a5b (X5), y1b (Y1) -> 3 sales, 40 + 200 + 100 = 340.00;
    # X5's timeline holds a5b only. Types call, ai_activity = 2. Totals stay 10 / 950.00 ->
    # share 340 / 950 = 0.3578.. -> 0.36. All credit to emp2.
    result = _run(con, associate="emp2")
    assert _sale_ids(result) == ["X4", "X5", "Y1"]
    assert [t["activity_id"] for t in _purchase(result, "X5")["timeline"]] == ["a5b"]
    summary = result.section("summary").record
    assert (summary["attributed_sales"], summary["attributed_amount"]) == (3, Decimal("340"))
    assert (summary["related_activities"], summary["activity_types"]) == (3, 2)
    assert (summary["total_sales"], summary["total_amount"]) == (10, Decimal("950"))
    assert summary["attributed_share"] == Decimal("0.36")
    assert _credit(result) == [("emp2", 3, Decimal("340"), Decimal("340.00"))]


def test_activity_type_filter_is_normalised(con: duckdb.DuckDBPyConnection) -> None:
    # "Message" -> message: a1, a5a, a6, ag, y1a, y1c, y2b -> X5, X6, X1, X11, Y1, Y2;
    # 200 - 50 + 100 + 20 + 100 + 100 = 470.00. X4 (a call only) drops out.
    messages = _run(con, activity_types=["Message"])
    assert _sale_ids(messages) == ["X5", "X6", "X1", "X11", "Y1", "Y2"]
    assert messages.section("summary").record["attributed_amount"] == Decimal("470")
    assert messages.section("summary").record["related_activities"] == 7
    # "  AI  Activity! " -> ai_activity: X5 with a5b only.
    ai = _run(con, activity_types=["  AI  Activity! "])
    assert ai.params["activity_types"] == ["ai_activity"]
    assert _sale_ids(ai) == ["X5"]
    assert [t["activity_id"] for t in _purchase(ai, "X5")["timeline"]] == ["a5b"]


def test_associate_and_type_filters_combine(con: duckdb.DuckDBPyConnection) -> None:
    # emp1 has no AI activity -> nothing attributed; 0 / 950.00 -> share 0.00.
    result = _run(con, associate="emp1", activity_types=["AI activity"])
    assert result.section("summary").record == {
        "attributed_sales": 0,
        "attributed_amount": Decimal("0"),
        "related_activities": 0,
        "activity_types": 0,
        "total_sales": 10,
        "total_amount": Decimal("950"),
        "attributed_share": Decimal("0.00"),
    }
    for key in ("by_type", "daily", "purchases", "associates"):
        assert result.section(key).rows == []


def test_normalize_activity_type_matches_staging() -> None:
    # The staging unit test's examples (stg_crm__activities).
    normalize = attributed_sales.normalize_activity_type
    assert normalize("Message") == "message"
    assert normalize("AI activity") == "ai_activity"
    assert normalize("--Follow-up!!") == "follow_up"
    assert normalize("Звонок клиенту") == "звонок_клиенту"
    assert normalize("a__b") == "a_b"  # '_' is not a letter or digit either


def test_window_days_bounds(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ReportError, match="--window-days must not be negative"):
        _run(con, window_days=-1)
    with pytest.raises(ReportError, match="at most 30"):
        _run(con, window_days=31)
    # 30 is allowed; 0 keeps only activities at the posting instant: none here.
    assert _run(con, window_days=30).params["window_days"] == 30
    assert _run(con, window_days=0).section("purchases").rows == []


def test_max_window_mirrors_the_dbt_var() -> None:
    project = yaml.safe_load(DBT_PROJECT_FILE.read_text())
    assert project["vars"]["max_attribution_window_days"] == attributed_sales.MAX_WINDOW_DAYS


def test_refusals_period_and_store(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ReportError, match="--to must be after --from"):
        _run(con, **{"from": "2025-03-10", "to": "2025-03-10"})
    with pytest.raises(ReportError, match=r"unknown location 'nowhere' \(--store\)"):
        _run(con, store="nowhere")


def test_filters_are_bound_not_formatted_into_sql(con: duckdb.DuckDBPyConnection) -> None:
    injection = "x'; drop table marts.fct_sales; --"
    (before,) = con.execute("select count(*) from marts.fct_sales").fetchone()
    assert _run(con, associate=injection).section("purchases").rows == []
    assert _run(con, activity_types=[injection]).section("purchases").rows == []
    with pytest.raises(ReportError, match="unknown location"):
        _run(con, store=injection)
    (after,) = con.execute("select count(*) from marts.fct_sales").fetchone()
    assert before == after == 13
