"""Exporters: build small ReportResults by hand, export, read the files back."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from crm_analytics.reports.result import Chart, Column, ReportResult, Section
from exporters import FORMATS, export, pdf_fonts, xlsx_export
from exporters.values import round2
from exporters.xlsx_layout import MAX_WIDTH, MIN_WIDTH, ColumnWidth, SheetNames

GENERATED = datetime(2026, 1, 18, 9, 50, 1)
PERIOD = {"from": datetime(2025, 12, 1, 10, 0), "to": datetime(2026, 1, 1, 10, 0)}


# --- hand-built results -----------------------------------------------------------


def promotions(role: str = "analyst", *, with_contacts: bool = False) -> ReportResult:
    """Shaped like R1: summary record, daily chart, specialists, optional non_returners."""
    sections = [
        Section(
            key="summary",
            title="Number of clients",
            kind="record",
            columns=(
                Column("promo_visits", "integer", "Promo visits"),
                Column("promo_clients", "integer", "Promo clients"),
                Column("new_clients", "integer", "New clients"),
            ),
            rows=[{"promo_visits": 5, "promo_clients": 3, "new_clients": 2}],
        ),
        Section(
            key="daily",
            title="Daily",
            columns=(Column("date", "date", "Date"), Column("promo_visits", "integer", "Visits")),
            rows=[
                {"date": date(2025, 12, 1), "promo_visits": 2},
                {"date": date(2025, 12, 2), "promo_visits": 1},
                {"date": date(2025, 12, 5), "promo_visits": 2},
            ],
            chart=Chart(x="date", y="promo_visits", title="Promo visits per day"),
        ),
        Section(
            key="earnings",
            title="Earnings",
            kind="record",
            columns=(
                Column("promo_revenue", "money"),
                Column("repeat_revenue", "money"),
                Column("total_revenue", "money"),
            ),
            rows=[
                {
                    "promo_revenue": Decimal("1500.50"),
                    "repeat_revenue": Decimal("0"),
                    "total_revenue": Decimal("1500.50"),
                }
            ],
        ),
        Section(
            key="specialists",
            title="Work of specialists",
            columns=(
                Column("specialist_id", "integer"),
                Column("specialist_name", "text", "Specialist"),
                Column("promo_clients", "integer"),
                Column("returned_clients", "integer"),
                Column("returned_to_specialist", "integer"),
            ),
            rows=[
                {
                    "specialist_id": 7,
                    "specialist_name": "Анна Смирнова",
                    "promo_clients": 3,
                    "returned_clients": 1,
                    "returned_to_specialist": 1,
                },
            ],
        ),
    ]
    if with_contacts:
        sections.append(
            Section(
                key="non_returners",
                title="Non-returners",
                columns=(
                    Column("chain_client_id", "integer"),
                    Column("client_name", "text"),
                    Column("phone", "text", contact=True),
                    Column("email", "text", contact=True),
                    Column("registered_at", "timestamp"),
                    Column("last_visit_at", "timestamp"),
                    Column("paid_for_promotion", "money"),
                    Column("balance", "money"),
                ),
                rows=[
                    {
                        "chain_client_id": 11,
                        "client_name": "Татьяна",
                        "phone": "+79990001122",
                        "email": "t@example.com",
                        "registered_at": datetime(2024, 3, 1, 12, 30),
                        "last_visit_at": datetime(2025, 12, 1, 10, 15),
                        "paid_for_promotion": Decimal("700.00"),
                        "balance": None,
                    }
                ],
            )
        )
    return ReportResult(
        report="promotions",
        title="Promotions report",
        params={**PERIOD, "location": 1, "promotion_type": "all", "reactivation_days": 90},
        role=role,
        generated_at=GENERATED,
        sections=sections,
    )


def repeat_clients() -> ReportResult:
    """Shaped like R3 (seed 002): Russian names, exact Decimal money, a totals record."""
    money_cols = (
        Column("chain_client_id", "integer"),
        Column("client_name", "text", "Клиент"),
        Column("deals", "integer", "Сделок"),
        Column("sales_total", "money", "Сумма реализаций"),
        Column("average_check", "ratio", "Средний чек"),
    )
    return ReportResult(
        report="repeat-clients",
        title="Многократные клиенты",
        params={**PERIOD, "location": None, "min_deals": 2},
        role="analyst",
        generated_at=GENERATED,
        sections=[
            Section(
                key="rows",
                title="Клиенты",
                columns=money_cols,
                rows=[
                    {
                        "chain_client_id": 1,
                        "client_name": "Татьяна",
                        "deals": 3,
                        "sales_total": Decimal("27025.00"),
                        "average_check": Decimal("9008.33"),
                    },
                    {
                        "chain_client_id": 2,
                        "client_name": "Иван",
                        "deals": 3,
                        "sales_total": Decimal("11500.00"),
                        "average_check": Decimal("3833.33"),
                    },
                ],
            ),
            Section(
                key="totals",
                title="Итого",
                kind="record",
                columns=(
                    Column("clients", "integer"),
                    Column("deals", "integer"),
                    Column("sales_total", "money"),
                    Column("average_check", "ratio"),
                ),
                rows=[
                    {
                        "clients": 2,
                        "deals": 6,
                        "sales_total": Decimal("38525.00"),
                        "average_check": Decimal("6420.83"),
                    }
                ],
            ),
        ],
    )


TIMELINE_FIELDS = (
    Column("activity_id", "integer"),
    Column("occurred_at", "timestamp"),
    Column("activity_type", "text"),
    Column("associate_name", "text"),
    Column("days_before", "ratio"),
)


def nested() -> ReportResult:
    """R4-like codes (list, share, percent, boolean) and R5-like purchases (records)."""
    return ReportResult(
        report="promo-codes",
        title="Promo codes",
        params={
            **PERIOD,
            "day": date(2025, 12, 3),
            "spent_min": Decimal("1000.005"),
            "activity_types": ["message", "call"],
            "online_booking": True,
        },
        role="analyst",
        generated_at=GENERATED,
        sections=[
            Section(
                key="codes",
                title="Codes",
                columns=(
                    Column("code", "text"),
                    Column("is_new", "boolean"),
                    Column("new_customer_share", "share"),
                    Column("budget_variance_pct", "percent"),
                    Column("cost_per_activation", "ratio"),
                    Column("signals", "list"),
                    Column("planned_budget", "money"),
                ),
                rows=[
                    {
                        "code": "WINTER",
                        "is_new": True,
                        "new_customer_share": Decimal("0.25"),
                        "budget_variance_pct": Decimal("25.5"),
                        "cost_per_activation": Decimal("12.345"),
                        "signals": ["over_budget", "variance_high"],
                        "planned_budget": None,
                    },
                    {
                        "code": '=HYPERLINK("x")',
                        "is_new": False,
                        "new_customer_share": None,
                        "budget_variance_pct": None,
                        "cost_per_activation": None,
                        "signals": [],
                        "planned_budget": Decimal("500"),
                    },
                ],
            ),
            Section(
                key="purchases",
                title="Purchases",
                columns=(
                    Column("sale_id", "integer"),
                    Column("posted_at", "timestamp"),
                    Column("client_name", "text"),
                    Column("amount", "money"),
                    Column("timeline", "records", fields=TIMELINE_FIELDS),
                ),
                rows=[
                    {
                        "sale_id": 501,
                        "posted_at": datetime(2025, 12, 10, 15, 0, 5),
                        "client_name": "Иван",
                        "amount": Decimal("-120.5"),
                        "timeline": [
                            {
                                "activity_id": 9,
                                "occurred_at": datetime(2025, 12, 1, 9, 0),
                                "activity_type": "message",
                                "associate_name": "Ольга",
                                "days_before": Decimal("9.25"),
                            },
                            {
                                "activity_id": 10,
                                "occurred_at": datetime(2025, 12, 9, 15, 0),
                                "activity_type": "call",
                                "associate_name": None,
                                "days_before": Decimal("1"),
                            },
                        ],
                    }
                ],
            ),
        ],
    )


def default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- json -------------------------------------------------------------------------


def test_json_repeat_clients_exact(tmp_path: Path) -> None:
    out = tmp_path / "r3.json"
    assert export(repeat_clients(), "json", out) == [out]
    text = out.read_text(encoding="utf-8")
    assert "Татьяна" in text  # ensure_ascii=False
    doc = json.loads(text)
    assert doc == {
        "report": "repeat-clients",
        "params": {
            "from": "2025-12-01T10:00:00",
            "to": "2026-01-01T10:00:00",
            "location": None,
            "min_deals": 2,
        },
        "rows": [
            {
                "chain_client_id": 1,
                "client_name": "Татьяна",
                "deals": 3,
                "sales_total": 27025.0,
                "average_check": 9008.33,
            },
            {
                "chain_client_id": 2,
                "client_name": "Иван",
                "deals": 3,
                "sales_total": 11500.0,
                "average_check": 3833.33,
            },
        ],
        "totals": {"clients": 2, "deals": 6, "sales_total": 38525.0, "average_check": 6420.83},
    }
    assert list(doc) == ["report", "params", "rows", "totals"]
    assert list(doc["rows"][0]) == [
        "chain_client_id",
        "client_name",
        "deals",
        "sales_total",
        "average_check",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.345"), 2.35),
        (Decimal("-2.345"), -2.35),
        (Decimal("2.344999"), 2.34),
        (Decimal("0.005"), 0.01),
        (Decimal("-0.004"), 0.0),
        (Decimal("27025.000001"), 27025.0),
        (2.345, 2.35),  # a float is read as its shortest text, not its binary value
        (7, 7.0),
    ],
)
def test_json_money_rounds_half_away_from_zero(tmp_path: Path, value, expected) -> None:
    result = ReportResult(
        report="x",
        title="x",
        params={},
        role="analyst",
        generated_at=GENERATED,
        sections=[Section("s", "S", (Column("m", "money"),), kind="record", rows=[{"m": value}])],
    )
    out = tmp_path / "x.json"
    export(result, "json", out)
    text = out.read_text(encoding="utf-8")
    assert json.loads(text)["s"]["m"] == expected
    assert "-0.0" not in text
    number = text.split('"m": ')[1].split()[0]
    assert len(number.partition(".")[2]) <= 2


def test_json_kinds_and_params(tmp_path: Path) -> None:
    out = tmp_path / "n.json"
    export(nested(), "json", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["params"] == {
        "from": "2025-12-01T10:00:00",
        "to": "2026-01-01T10:00:00",
        "day": "2025-12-03",
        "spent_min": 1000.01,
        "activity_types": ["message", "call"],
        "online_booking": True,
    }
    assert doc["codes"][0] == {
        "code": "WINTER",
        "is_new": True,
        "new_customer_share": 0.25,
        "budget_variance_pct": 25.5,
        "cost_per_activation": 12.35,
        "signals": ["over_budget", "variance_high"],
        "planned_budget": None,
    }
    assert doc["codes"][1]["signals"] == []
    assert doc["codes"][1]["is_new"] is False
    assert doc["purchases"] == [
        {
            "sale_id": 501,
            "posted_at": "2025-12-10T15:00:05",
            "client_name": "Иван",
            "amount": -120.5,
            "timeline": [
                {
                    "activity_id": 9,
                    "occurred_at": "2025-12-01T09:00:00",
                    "activity_type": "message",
                    "associate_name": "Ольга",
                    "days_before": 9.25,
                },
                {
                    "activity_id": 10,
                    "occurred_at": "2025-12-09T15:00:00",
                    "activity_type": "call",
                    "associate_name": None,
                    "days_before": 1.0,
                },
            ],
        }
    ]


def test_json_record_and_table_shapes(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    export(promotions(), "json", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert list(doc) == ["report", "params", "summary", "daily", "earnings", "specialists"]
    assert doc["summary"] == {"promo_visits": 5, "promo_clients": 3, "new_clients": 2}
    assert doc["daily"][0] == {"date": "2025-12-01", "promo_visits": 2}
    assert doc["earnings"]["repeat_revenue"] == 0


def test_json_tables_have_one_row_per_line_and_parse_to_the_document(tmp_path: Path) -> None:
    from exporters.json_export import document

    out = tmp_path / "r.json"
    export(nested(), "json", out)
    text = out.read_text(encoding="utf-8")
    assert json.loads(text) == document(nested())
    for section in nested().sections:
        if section.kind == "table" and section.rows:
            rows = json.loads(text)[section.key]
            # each row is a single line of the file, as compact JSON
            for row in rows:
                line = json.dumps(row, ensure_ascii=False)
                assert f"    {line}" in text.splitlines() or f"    {line}," in text.splitlines()


def test_json_missing_keys_are_null_and_empty_record_is_object(tmp_path: Path) -> None:
    result = repeat_clients()
    del result.sections[0].rows[0]["average_check"]
    result.sections[1].rows.clear()
    out = tmp_path / "r.json"
    export(result, "json", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["rows"][0]["average_check"] is None
    assert doc["totals"] == {
        "clients": None,
        "deals": None,
        "sales_total": None,
        "average_check": None,
    }


def test_json_section_option_keeps_only_that_section(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    export(repeat_clients(), "json", out, section="totals")
    assert list(json.loads(out.read_text(encoding="utf-8"))) == ["report", "params", "totals"]


def test_bad_values_fail_with_the_column_named() -> None:
    result = repeat_clients()
    result.sections[0].rows[0]["deals"] = Decimal("2.5")
    with pytest.raises(ValueError, match="'deals'"):
        export(result, "json", Path("/nonexistent/never-written.json"))


def test_aware_timestamp_refused(tmp_path: Path) -> None:
    from datetime import UTC

    result = nested()
    result.sections[1].rows[0]["posted_at"] = datetime(2025, 12, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        export(result, "json", tmp_path / "x.json")
    assert not list(tmp_path.iterdir())


# --- csv --------------------------------------------------------------------------


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


def test_csv_one_file_per_section(tmp_path: Path) -> None:
    out = tmp_path / "r3.csv"
    paths = export(repeat_clients(), "csv", out)
    assert paths == [tmp_path / "r3.rows.csv", tmp_path / "r3.totals.csv"]
    assert not out.exists()
    assert read_csv(paths[0]) == [
        ["chain_client_id", "client_name", "deals", "sales_total", "average_check"],
        ["1", "Татьяна", "3", "27025.00", "9008.33"],
        ["2", "Иван", "3", "11500.00", "3833.33"],
    ]
    assert read_csv(paths[1]) == [
        ["clients", "deals", "sales_total", "average_check"],
        ["2", "6", "38525.00", "6420.83"],
    ]
    assert paths[0].read_bytes().count(b"\r\n") == 3


def test_csv_section_option_writes_exactly_at_out(tmp_path: Path) -> None:
    out = tmp_path / "totals.csv"
    assert export(repeat_clients(), "csv", out, section="totals") == [out]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["totals.csv"]
    assert read_csv(out)[0] == ["clients", "deals", "sales_total", "average_check"]


def test_csv_value_kinds(tmp_path: Path) -> None:
    paths = export(nested(), "csv", tmp_path / "n.csv")
    codes, purchases = (read_csv(p) for p in paths)
    assert codes[1] == ["WINTER", "true", "0.25", "25.50", "12.35", "over_budget,variance_high", ""]
    assert codes[2] == ['=HYPERLINK("x")', "false", "", "", "", "", "500.00"]
    row = dict(zip(purchases[0], purchases[1], strict=True))
    assert row["posted_at"] == "2025-12-10T15:00:05"
    assert row["amount"] == "-120.50"
    assert json.loads(row["timeline"])[0] == {
        "activity_id": 9,
        "occurred_at": "2025-12-01T09:00:00",
        "activity_type": "message",
        "associate_name": "Ольга",
        "days_before": 9.25,
    }
    assert " " not in row["timeline"].replace("Ольга", "")  # compact


def test_csv_refuses_a_directory_among_section_files(tmp_path: Path) -> None:
    (tmp_path / "r3.totals.csv").mkdir()
    with pytest.raises(ValueError, match="directory"):
        export(repeat_clients(), "csv", tmp_path / "r3.csv")
    assert not (tmp_path / "r3.rows.csv").exists()


# --- xlsx -------------------------------------------------------------------------


def test_xlsx_layout_formats_and_chart(tmp_path: Path) -> None:
    out = tmp_path / "p.xlsx"
    export(promotions(), "xlsx", out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [
        "Parameters",
        "Number of clients",
        "Daily",
        "Earnings",
        "Work of specialists",
    ]

    daily = wb["Daily"]
    assert [c.value for c in daily[1]] == ["Date", "Visits"]
    assert all(c.font.bold for c in daily[1])
    assert daily.freeze_panes == "A2"
    assert daily.auto_filter.ref == "A1:B4"
    assert daily["A2"].value == datetime(2025, 12, 1)  # a real date cell
    assert daily["A2"].is_date and daily["A2"].number_format == "yyyy-mm-dd"
    assert daily["B2"].value == 2 and daily["B2"].number_format == "0"

    (chart,) = daily._charts
    assert type(chart).__name__ == "BarChart"
    (series,) = chart.series
    assert series.val.numRef.f == "'Daily'!$B$2:$B$4"
    assert series.cat.numRef.f == "'Daily'!$A$2:$A$4"
    assert chart.anchor._from.col >= 2  # beside the table, not over it

    earnings = wb["Earnings"]
    assert [c.value for c in earnings[1]] == ["Field", "Value"]
    assert earnings["A2"].value == "promo_revenue"
    assert earnings["B2"].value == 1500.5 and earnings["B2"].number_format == "#,##0.00"

    spec = wb["Work of specialists"]
    assert spec["B2"].value == "Анна Смирнова"
    assert spec.column_dimensions["B"].width >= len("Анна Смирнова")


def test_xlsx_parameters_sheet(tmp_path: Path) -> None:
    out = tmp_path / "p.xlsx"
    export(repeat_clients(), "xlsx", out)
    ws = openpyxl.load_workbook(out)["Parameters"]
    assert ws["A1"].value == "Многократные клиенты" and ws["A1"].font.bold
    pairs = {r[0]: r[1] for r in ws.iter_rows(min_row=3, values_only=True)}
    assert pairs["Report"] == "repeat-clients"
    assert pairs["Period"] == "2025-12-01 10:00 – 2026-01-01 10:00"
    assert pairs["from"] == datetime(2025, 12, 1, 10, 0)
    assert pairs["min_deals"] == 2
    assert "location" in pairs
    assert pairs["Role"] == "analyst"
    assert pairs["Generated at"] == GENERATED


def test_xlsx_number_formats_lists_records_and_text_safety(tmp_path: Path) -> None:
    out = tmp_path / "n.xlsx"
    export(nested(), "xlsx", out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Parameters", "Codes", "Purchases", "Purchases - timeline"]
    codes = wb["Codes"]
    assert codes["B2"].value is True and codes["B3"].value is False
    assert codes["C2"].value == 0.25 and codes["C2"].number_format == "0.00%"
    assert codes["D2"].value == 25.5 and codes["D2"].number_format == '0.00"%"'
    assert codes["E2"].value == 12.35 and codes["E2"].number_format == "0.00"
    assert codes["F2"].value == "over_budget, variance_high"
    assert codes["A3"].value == '=HYPERLINK("x")' and codes["A3"].data_type == "s"
    purchases = wb["Purchases"]
    assert purchases["B2"].value == datetime(2025, 12, 10, 15, 0, 5)
    assert purchases["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert json.loads(purchases["E2"].value)[1]["activity_id"] == 10
    detail = wb["Purchases - timeline"]
    assert [c.value for c in detail[1]] == [
        "sale_id",
        "activity_id",
        "occurred_at",
        "activity_type",
        "associate_name",
        "days_before",
    ]
    assert [c.value for c in detail[3]] == [
        501,
        10,
        datetime(2025, 12, 9, 15, 0),
        "call",
        None,
        1,
    ]
    assert detail.auto_filter.ref == "A1:F3"


def test_xlsx_is_deterministic(tmp_path: Path) -> None:
    first, second = xlsx_export.render(nested()), xlsx_export.render(nested())
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 1, 18, 9, 50, 0)}
    wb = openpyxl.load_workbook(io.BytesIO(first))
    assert wb.properties.creator == "crm-analytics"


def test_column_width_fits_the_longest_line_within_bounds() -> None:
    assert ColumnWidth().width == MIN_WIDTH
    assert ColumnWidth("abc").width == MIN_WIDTH  # 3 + 2 padding is below the minimum
    width = ColumnWidth("Visits")
    width.fit("a much longer line\nshort")
    assert width.width == len("a much longer line") + 2  # the longest line, not the text
    assert not width.at_most
    width.fit("x" * 200)
    assert width.width == MAX_WIDTH and width.at_most


def test_sheet_names_are_valid_and_unique() -> None:
    names = SheetNames()
    assert names.claim("Parameters") == "Parameters"
    assert names.claim("parameters") == "parameters (2)"
    long = "Очень длинное название раздела отчёта"
    first, second = names.claim(long), names.claim(long)
    assert len(first) <= 31 and len(second) <= 31 and first != second
    assert names.claim("a/b:c*d?[e]") == "a b c d e"
    assert names.claim("'quoted'") == "quoted"
    assert names.claim("History") == "History (2)"
    assert names.claim("   ") == "Sheet"


# --- pdf --------------------------------------------------------------------------


def pdf_text(path: Path) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(path)
    return reader, [page.extract_text() for page in reader.pages]


def test_pdf_cyrillic_text_page_numbers_and_embedded_font(tmp_path: Path) -> None:
    out = tmp_path / "r3.pdf"
    export(repeat_clients(), "pdf", out)
    reader, pages = pdf_text(out)
    text = "\n".join(pages)
    for needle in ("Многократные клиенты", "Татьяна", "Иван", "Сумма реализаций", "min_deals"):
        assert needle in text
    assert "27\xa0025.00" in text or "27 025.00" in text
    assert f"Page 1 of {len(pages)}" in pages[0]
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor  # the TTF is embedded, not referenced
            fonts.add(str(font["/BaseFont"]))
    assert any("DejaVuSans" in f and "Bold" not in f for f in fonts)
    assert any("DejaVuSans" in f and "Bold" in f for f in fonts)
    box = reader.pages[0].mediabox
    assert float(box.width) < float(box.height)  # portrait: five columns fit


def test_pdf_long_table_repeats_header_and_numbers_pages(tmp_path: Path) -> None:
    result = repeat_clients()
    row = result.sections[0].rows[0]
    result.sections[0].rows = [
        {**row, "chain_client_id": i, "client_name": f"Клиент {i:03d} " + "очень " * 20}
        for i in range(120)
    ]
    out = tmp_path / "long.pdf"
    export(result, "pdf", out)
    _, pages = pdf_text(out)
    assert len(pages) >= 3
    for n, page in enumerate(pages, start=1):
        assert f"Page {n} of {len(pages)}" in page
    assert "Сделок" in pages[1]  # the header row repeats on the next page
    assert "Клиент 119" in "\n".join(pages)


def test_pdf_chart_sections_and_landscape(tmp_path: Path) -> None:
    out = tmp_path / "p.pdf"
    export(promotions("manager", with_contacts=True), "pdf", out)
    reader, pages = pdf_text(out)
    text = "\n".join(pages)
    for needle in (
        "Promo visits per day",
        "2025-12-01",
        "Work of specialists",
        "Анна Смирнова",
        "Non-returners",
        "+79990001122",
        "Period",
    ):
        assert needle in text
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # eight columns: landscape
    (chart_page,) = [p for p in pages if "Promo visits per day" in p]
    assert "Daily" in chart_page and "Visits" in chart_page  # heading kept with its chart


def test_pdf_wide_table_fits_the_page(tmp_path: Path) -> None:
    """Sixteen R2-like columns: the font shrinks so short values stay on one line."""
    names = [f"field_number_{i}" for i in range(13)]
    columns = (
        Column("phone", "text", contact=True),
        Column("email", "text", contact=True),
        Column("registered_at", "timestamp"),
        *(Column(n, "integer") for n in names),
    )
    row = {
        "phone": "+79990001122",
        "email": "a.very.long.email.address.without.spaces@example-domain.com",
        "registered_at": datetime(2024, 3, 1, 12, 30),
        **dict.fromkeys(names, 123456),
    }
    result = ReportResult(
        report="chain-clients",
        title="Chain clients",
        params={},
        role="manager",
        generated_at=GENERATED,
        sections=[Section("clients", "Clients", columns, rows=[row] * 40)],
    )
    out = tmp_path / "wide.pdf"
    export(result, "pdf", out)
    text = "\n".join(pdf_text(out)[1])
    assert text.count("+79990001122") == 40
    assert text.count("2024-03-01 12:30") == 40
    assert "Page 1 of" in text


def test_pdf_nested_records_and_determinism(tmp_path: Path) -> None:
    out = tmp_path / "n.pdf"
    export(nested(), "pdf", out)
    text = "\n".join(pdf_text(out)[1])
    assert "Ольга" in text and "over_budget, variance_high" in text
    first = out.read_bytes()
    export(nested(), "pdf", out)
    assert out.read_bytes() == first


def test_pdf_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_fonts, "KNOWN_DIRS", ())
    monkeypatch.setattr(pdf_fonts, "SEARCH_ROOTS", ())
    monkeypatch.setattr(pdf_fonts, "_bundled_dirs", lambda: [])
    with pytest.raises(pdf_fonts.FontNotFoundError, match=r"DejaVuSans\.ttf.*CRM_FONT_DIR"):
        pdf_fonts.locate_fonts({})


def test_font_dir_override_wins(tmp_path: Path) -> None:
    found = pdf_fonts.locate_fonts({})
    for path in found.values():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    override = pdf_fonts.locate_fonts({pdf_fonts.FONT_DIR_ENV: str(tmp_path)})
    assert {p.parent for p in override.values()} == {tmp_path}


# --- files: modes, atomicity, refusals ----------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_contact_files_are_private(tmp_path: Path, fmt: str) -> None:
    paths = export(promotions("manager", with_contacts=True), fmt, tmp_path / f"c.{fmt}")
    assert paths
    for path in paths:
        assert mode(path) == 0o600


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_files_get_the_default_mode(tmp_path: Path, fmt: str) -> None:
    for path in export(repeat_clients(), fmt, tmp_path / f"r.{fmt}"):
        assert mode(path) == default_mode()
    # a section without contact data, cut from a manager's result, is not private
    (path,) = export(
        promotions("manager", with_contacts=True), fmt, tmp_path / f"s.{fmt}", section="summary"
    )
    assert mode(path) == default_mode()


def test_replacing_a_public_file_with_contacts_makes_it_private(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    out.write_text("old")
    out.chmod(0o644)
    export(promotions("manager", with_contacts=True), "json", out)
    assert mode(out) == 0o600


@pytest.mark.parametrize("fmt", FORMATS)
def test_contacts_refused_for_analyst(tmp_path: Path, fmt: str) -> None:
    with pytest.raises(ValueError, match="contact data"):
        export(promotions("analyst", with_contacts=True), fmt, tmp_path / f"c.{fmt}")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("fmt", FORMATS)
def test_directory_out_is_refused(tmp_path: Path, fmt: str) -> None:
    with pytest.raises(ValueError, match="existing directory"):
        export(repeat_clients(), fmt, tmp_path)


def test_unknown_format_and_section_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        export(repeat_clients(), "html", tmp_path / "x.html")
    with pytest.raises(ValueError, match=r"no section 'nope' \(sections: rows, totals\)"):
        export(repeat_clients(), "json", tmp_path / "x.json", section="nope")


def test_out_may_be_a_string(tmp_path: Path) -> None:
    assert export(repeat_clients(), "json", str(tmp_path / "s.json")) == [tmp_path / "s.json"]


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "sub" / "r.json"
    export(repeat_clients(), "json", out)  # creates missing parent directories
    before = out.read_bytes()

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        export(nested(), "json", out)
    assert out.read_bytes() == before  # the old file is untouched
    assert [p.name for p in out.parent.iterdir()] == ["r.json"]  # no temp file left


def test_round2_is_half_away_from_zero() -> None:
    assert round2(Decimal("1.005")) == Decimal("1.01")
    assert round2(Decimal("-1.005")) == Decimal("-1.01")
    assert str(round2(Decimal("-0.001"))) == "0.00"
    assert round2(Decimal("1E+30")) == Decimal("1E+30")
    # beyond the default context's 28 digits the rounding still holds
    assert round2(Decimal("123456789012345678901234567.125")) == Decimal(
        "123456789012345678901234567.13"
    )
