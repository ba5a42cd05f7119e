"""Ingestion of single files: formats, header matching, whole-file rejections, discovery."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crm_analytics.ingest import (
    IngestResult,
    LedgerRecord,
    csv_reader,
    ingest,
    jsonl_plain,
    rawzone,
)
from crm_analytics.ingest.errors import Rejected
from crm_analytics.ingest.jsonl_reader import JsonlSource

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
CLIENT_HEADER = "client_id,location_id,registered_at,updated_at"


def land(landing: Path, entity: str, name: str, data: bytes | str) -> Path:
    path = landing / entity / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def run(tmp_path: Path) -> IngestResult:
    return ingest(tmp_path / "landing", tmp_path / "state", now=NOW)


def record(result: IngestResult, entity: str, name: str) -> LedgerRecord:
    (rec,) = [r for r in result.ledger() if r.entity == entity and r.file_name == name]
    return rec


def rows(tmp_path: Path, rec: LedgerRecord) -> list[dict]:
    assert rec.parquet_path is not None
    return pq.read_table(tmp_path / "state" / rec.parquet_path).to_pylist()


def raw_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "state" / "raw").rglob("*.parquet"))


# --- csv ---------------------------------------------------------------------------------


def test_csv_bom_quoting_and_header_matching(tmp_path: Path) -> None:
    data = (
        "\ufeff Client_ID ,LOCATION_ID,Registered_At,updated_at,Name,Loyalty Tier\r\n"
        'c1,l1,2026-01-01,2026-05-01,"Ann, A",gold\r\n'
        'c2,l1,2026-01-02,2026-05-01,"Bob ""B""\nsecond line",\r\n'
    )
    land(tmp_path / "landing", "clients", "2026-05-01.csv", data)
    result = run(tmp_path)
    rec = record(result, "clients", "2026-05-01.csv")
    assert rec.status == "loaded" and rec.rows_read == 2 and rec.reason is None
    assert rec.columns == (
        "client_id",
        "location_id",
        "registered_at",
        "updated_at",
        "name",
        "loyalty tier",
    )
    assert rec.extra_columns == ("loyalty tier",)
    assert rec.file_format == "csv" and rec.ingested_at == NOW.isoformat()
    out = rows(tmp_path, rec)
    assert out[0]["client_id"] == "c1" and out[0]["name"] == "Ann, A"
    assert out[1]["name"] == 'Bob "B"\nsecond line'
    assert out[1]["loyalty tier"] == ""  # empty field stays text; staging nulls it
    assert out[0]["phone"] is None  # contract column absent from the file
    assert [r["_row_number"] for r in out] == [1, 2]
    assert {r["_source_file"] for r in out} == {"2026-05-01.csv"}
    assert {r["_ingested_at"] for r in out} == {NOW}
    assert [d.extra_columns for d in result.drift] == [("loyalty tier",)]


def test_csv_parquet_schema_has_contract_columns_first(tmp_path: Path) -> None:
    land(tmp_path / "landing", "locations", "a.csv", "zzz,updated_at,name,location_id\n1,2,3,4\n")
    rec = record(run(tmp_path), "locations", "a.csv")
    schema = pq.read_schema(tmp_path / "state" / rec.parquet_path)
    assert schema.names == [
        "location_id",
        "name",
        "location_group",
        "city",
        "timezone",
        "is_deleted",
        "updated_at",
        "zzz",
        "_source_file",
        "_row_number",
        "_ingested_at",
    ]
    assert str(schema.field("_row_number").type) == "int64"
    assert str(schema.field("_ingested_at").type) == "timestamp[us, tz=UTC]"
    assert all(str(schema.field(n).type) == "string" for n in schema.names[:8])


@pytest.mark.parametrize("data", [CLIENT_HEADER + "\n", CLIENT_HEADER, CLIENT_HEADER + "\r\n\r\n"])
def test_csv_header_only_loads_nothing(tmp_path: Path, data: str) -> None:
    land(tmp_path / "landing", "clients", "a.csv", data)
    rec = record(run(tmp_path), "clients", "a.csv")
    assert (rec.status, rec.rows_read, rec.reason) == ("loaded", 0, None)
    assert pq.read_metadata(tmp_path / "state" / rec.parquet_path).num_rows == 0


def test_csv_values_are_never_typed(tmp_path: Path) -> None:
    land(
        tmp_path / "landing",
        "clients",
        "a.csv",
        CLIENT_HEADER + ",balance\n007,NULL,1e3,true,  3.0 \n",
    )
    (row,) = rows(tmp_path, record(run(tmp_path), "clients", "a.csv"))
    assert (row["client_id"], row["location_id"], row["registered_at"]) == ("007", "NULL", "1e3")
    assert (row["updated_at"], row["balance"]) == ("true", "  3.0 ")


def test_csv_many_batches_and_row_groups(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(rawzone, "CSV_BLOCK_SIZE", 4096)
    monkeypatch.setattr(rawzone, "ROW_GROUP_ROWS", 1000)
    lines = [CLIENT_HEADER] + [f"c{i},l1,2026-01-01,2026-05-01" for i in range(5500)]
    land(tmp_path / "landing", "clients", "a.csv", "\n".join(lines) + "\n")
    rec = record(run(tmp_path), "clients", "a.csv")
    path = tmp_path / "state" / rec.parquet_path
    assert rec.rows_read == 5500
    meta = pq.read_metadata(path)
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1000] * 5 + [500]
    table = pq.read_table(path)
    assert table.column("_row_number").to_pylist() == list(range(1, 5501))
    assert table.column("client_id").to_pylist()[-1] == "c5499"


def test_csv_record_larger_than_a_block_is_retried(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(rawzone, "CSV_BLOCK_SIZE", 1024)
    big = "x\n" * 3000
    land(
        tmp_path / "landing",
        "clients",
        "a.csv",
        f'{CLIENT_HEADER},name\nc1,l1,r,u,"{big}"\nc2,l1,r,u,n\n',
    )
    rec = record(run(tmp_path), "clients", "a.csv")
    assert rec.status == "loaded" and rec.rows_read == 2
    assert rows(tmp_path, rec)[0]["name"] == big


def test_csv_first_record_larger_than_the_header_block(tmp_path: Path) -> None:
    # the header is read from a small first block; a longer first record needs a bigger one
    big = "y\n" * (csv_reader.HEADER_BLOCK_SIZE // 2 + 10)
    land(
        tmp_path / "landing",
        "clients",
        "a.csv",
        f'{CLIENT_HEADER},name\nc1,l1,r,u,"{big}"\nc2,l1,r,u,n\n',
    )
    rec = record(run(tmp_path), "clients", "a.csv")
    assert rec.status == "loaded" and rec.rows_read == 2
    assert rec.columns[-1] == "name"
    assert [r["name"] for r in rows(tmp_path, rec)] == [big, "n"]


# --- xlsx --------------------------------------------------------------------------------


def test_xlsx_typed_cells(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(
        [
            "Client_ID",
            " location_id",
            "registered_at",
            "updated_at",
            "balance",
            "is_deleted",
            "name",
            "birthday",
            "alarm",
            "count",
        ]
    )
    ws.append(
        [
            1,
            "l1",
            dt.datetime(2026, 5, 1, 10, 30),
            dt.datetime(2026, 5, 1, 10, 30, 0, 123000),
            1234567.891,
            True,
            "  Ann ",
            dt.date(2026, 5, 2),
            dt.time(7, 5, 9),
            3.0,
        ]
    )
    ws.append(["c2", "l1", "01.05.2026 10:00", None, 1e-7, False, None, None, None, -0.5])
    ws.append([None] * 10)  # an empty row between records is not a record either
    ws.append(["c3", "l2", None, None, 12345678901234567890, None, "", None, None, 2])
    ws.append([None] * 10)
    ws.append([None] * 10)
    ws2 = wb.create_sheet("ignored")
    ws2.append(["nothing"])
    path = tmp_path / "landing" / "clients" / "a.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    rec = record(run(tmp_path), "clients", "a.xlsx")
    assert rec.status == "loaded" and rec.rows_read == 3 and rec.file_format == "xlsx"
    assert rec.extra_columns == ("birthday", "alarm", "count")
    r1, r2, r3 = rows(tmp_path, rec)
    assert r1["client_id"] == "1"
    assert r1["registered_at"] == "2026-05-01 10:30:00"
    assert r1["updated_at"] == "2026-05-01 10:30:00.123000"
    assert r1["balance"] == "1234567.891"
    assert r1["is_deleted"] == "true" and r2["is_deleted"] == "false"
    assert r1["name"] == "  Ann "  # text cells are kept as typed
    assert r1["birthday"] == "2026-05-02" and r1["alarm"] == "07:05:09"
    assert r1["count"] == "3" and r2["count"] == "-0.5" and r3["count"] == "2"
    assert r2["registered_at"] == "01.05.2026 10:00" and r2["updated_at"] is None
    assert r2["balance"] == "0.0000001" and r2["name"] is None
    assert r3["balance"] == "12345678901234570000" and r3["name"] is None
    assert [r["_row_number"] for r in (r1, r2, r3)] == [1, 2, 3]


def test_xlsx_whole_columns_of_text_or_datetimes_render_as_single_cells(tmp_path: Path) -> None:
    # such columns are converted by Arrow at once: the texts must be those of cell_text
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["client_id", "location_id", "registered_at", "updated_at"])
    ws.append(["c1", "", dt.datetime(2026, 5, 1, 10, 30), dt.datetime(2026, 5, 1, 10, 30)])
    ws.append(
        ["c2", "l1", dt.datetime(2026, 5, 2, 0, 0), dt.datetime(2026, 5, 1, 10, 30, 0, 123000)]
    )
    ws.append(["c3", None, None, None])
    path = tmp_path / "landing" / "clients" / "a.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    rec = record(run(tmp_path), "clients", "a.xlsx")
    got = [(r["location_id"], r["registered_at"], r["updated_at"]) for r in rows(tmp_path, rec)]
    assert got == [
        (None, "2026-05-01 10:30:00", "2026-05-01 10:30:00"),
        ("l1", "2026-05-02 00:00:00", "2026-05-01 10:30:00.123000"),
        (None, None, None),
    ]


def test_xlsx_columns_mixing_datetimes_and_typed_in_text_render_as_single_cells(
    tmp_path: Path,
) -> None:
    # a timestamp column where some cells were typed in as text: converted by Arrow too
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["client_id", "location_id", "registered_at", "updated_at"])
    ws.append(["c1", "l1", dt.datetime(2026, 5, 1, 10, 30), "01.05.2026 10:30"])
    ws.append(["c2", "l1", "2026-05-02T11:00:00+03:00", dt.datetime(2026, 5, 1, 10, 30, 0, 157000)])
    ws.append(["c3", "l1", None, ""])
    ws.append(["c4", "l1", " 2026-05-03 ", dt.datetime(1999, 12, 31, 23, 59, 59)])
    path = tmp_path / "landing" / "clients" / "a.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    rec = record(run(tmp_path), "clients", "a.xlsx")
    got = [(r["registered_at"], r["updated_at"]) for r in rows(tmp_path, rec)]
    assert got == [
        ("2026-05-01 10:30:00", "01.05.2026 10:30"),
        ("2026-05-02T11:00:00+03:00", "2026-05-01 10:30:00.157000"),
        (None, None),
        (" 2026-05-03 ", "1999-12-31 23:59:59"),
    ]


def test_xlsx_columns_of_numbers_or_booleans_with_typed_in_text_render_as_single_cells(
    tmp_path: Path,
) -> None:
    # converted by Arrow per cell type; exponents and -0 take the cell-by-cell path
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["client_id", "location_id", "registered_at", "updated_at", "balance", "is_deleted"])
    at = "2026-05-01 10:00"
    ws.append(["c1", "l1", at, at, 3.0, True])
    ws.append(["c2", "l1", at, at, "12,5", "да"])
    ws.append(["c3", "l1", at, at, 0.1, False])
    ws.append(["c4", "l1", at, at, 1234.56, None])
    ws.append(["c5", "l1", at, at, None, "no"])
    path = tmp_path / "landing" / "clients" / "a.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    ws.cell(row=2, column=5, value=1e16)
    ws.cell(row=4, column=5, value=-0.0)
    wb.save(path.with_name("b.xlsx"))
    result = run(tmp_path)
    got = [
        (r["balance"], r["is_deleted"]) for r in rows(tmp_path, record(result, "clients", "a.xlsx"))
    ]
    assert got == [
        ("3", "true"),
        ("12,5", "да"),
        ("0.1", "false"),
        ("1234.56", None),
        (None, "no"),
    ]
    got = [r["balance"] for r in rows(tmp_path, record(result, "clients", "b.xlsx"))]
    assert got == ["10000000000000000", "12,5", "0", "1234.56", None]


def test_xlsx_column_texts_by_arrow_equal_cell_text_cell_by_cell() -> None:
    import random

    from crm_analytics.ingest.values import cell_text
    from crm_analytics.ingest.xlsx_reader import _column_texts

    rng = random.Random(7)
    pools = {
        "text": lambda: rng.choice(["", " a ", "01.05.2026 10:30", "true", "3.0", "да"]),
        "float": lambda: rng.choice(
            [
                rng.uniform(-1e7, 1e7),
                float(rng.randint(-(10**6), 10**6)),
                1e16,
                1e-7,
                -0.0,
                0.0,
                2.5e-300,
                1.7976931348623157e308,
            ]
        ),
        "bool": lambda: rng.random() < 0.5,
        "datetime": lambda: (
            dt.datetime(2026, 1, 1)
            + dt.timedelta(
                seconds=rng.randint(0, 10**8), microseconds=rng.choice([0, 0, 1, 157000])
            )
        ),
        "none": lambda: None,
    }
    for _ in range(300):
        kinds = rng.sample(sorted(pools), rng.randint(1, 4))
        values = [pools[rng.choice(kinds)]() for _ in range(rng.randint(1, 40))]
        assert _column_texts(values).to_pylist() == [cell_text(v) for v in values], values


def test_xlsx_empty_and_broken(tmp_path: Path) -> None:
    land(tmp_path / "landing", "clients", "empty.xlsx", b"")
    land(tmp_path / "landing", "clients", "text.xlsx", "client_id\nc1\n")
    result = run(tmp_path)
    empty = record(result, "clients", "empty.xlsx")
    assert empty.reason == "cannot open xlsx: empty file (0 bytes)"
    reason = record(result, "clients", "text.xlsx").reason
    assert reason is not None and reason.startswith("cannot open xlsx: ")
    assert raw_files(tmp_path) == []


def test_xlsx_header_must_be_row_one(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A3"] = "client_id"
    path = tmp_path / "landing" / "clients" / "a.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    rec = record(run(tmp_path), "clients", "a.xlsx")
    assert rec.status == "rejected" and rec.reason is not None and "row 1" in rec.reason


# --- jsonl -------------------------------------------------------------------------------


def test_jsonl_typed_values_and_key_union(tmp_path: Path) -> None:
    lines = [
        '{"sale_id": "s1", "Location_ID": "l1", "amount": 12.50, "status": "posted",'
        ' "created_at": "c", "updated_at": "u", "qty": 3.0, "big": 1e3, "tiny": 1.5e-7,'
        ' "flag": true, "meta": {"a": [1, 2.0, null], "b": "ü"}}',
        "",
        "   ",
        '{"sale_id": "s2", " AMOUNT ": -7, "flag": false, "deal_id": null, "note": "x"}',
    ]
    land(tmp_path / "landing", "sales", "a.jsonl", "\n".join(lines) + "\n")
    rec = record(run(tmp_path), "sales", "a.jsonl")
    assert rec.status == "loaded" and rec.rows_read == 2 and rec.file_format == "jsonl"
    assert rec.columns == (
        "sale_id",
        "location_id",
        "amount",
        "status",
        "created_at",
        "updated_at",
        "qty",
        "big",
        "tiny",
        "flag",
        "meta",
        "deal_id",
        "note",
    )
    assert rec.extra_columns == ("qty", "big", "tiny", "flag", "meta", "note")
    r1, r2 = rows(tmp_path, rec)
    assert (r1["amount"], r1["qty"], r1["big"], r1["tiny"]) == ("12.50", "3", "1000", "0.00000015")
    assert r1["flag"] == "true" and r2["flag"] == "false"
    assert r1["meta"] == '{"a":[1,2.0,null],"b":"ü"}'
    assert r1["location_id"] == "l1" and r2["location_id"] is None
    assert r2["amount"] == "-7" and r2["deal_id"] is None and r1["note"] is None
    assert [r1["_row_number"], r2["_row_number"]] == [1, 2]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[1, 2]", "line 3 is not a JSON object (got an array)"),
        ('"text"', "line 3 is not a JSON object (got a string)"),
        ('{"sale_id": ', "line 3 is not a JSON object (invalid JSON: Expecting value, column 13)"),
        ('{"a": NaN}', "line 3 is not a JSON object (NaN is not valid JSON)"),
        ('{"a": 1, "A": 2}', "line 3 has a duplicate key"),
        # repeated keys that the fast parser would merge silently
        ('{"a": 1, "a": 2}', "line 3 has a duplicate key"),
        ('{"a,b": "x,y", "a,b": 2}', "line 3 has a duplicate key"),
        ('{"a": "\\u002c", "a": 2}', "line 3 has a duplicate key"),
        ('{"a": "x\\ud800"}', "line 3 has a \\u escape of half a character (a surrogate)"),
    ],
)
def test_jsonl_bad_line_rejects_file(tmp_path: Path, line: str, reason: str) -> None:
    good = (
        '{"sale_id": "s1", "location_id": "l", "amount": 1, "status": "posted",'
        ' "created_at": "c", "updated_at": "u"}'
    )
    land(tmp_path / "landing", "sales", "a.jsonl", f"{good}\n\n{line}\n{good}\n")
    rec = record(run(tmp_path), "sales", "a.jsonl")
    assert (rec.status, rec.reason, rec.rows_read, rec.parquet_path) == (
        "rejected",
        reason,
        0,
        None,
    )
    assert raw_files(tmp_path) == []


def test_jsonl_texts_are_the_same_from_the_fast_and_the_exact_parser(tmp_path: Path) -> None:
    # plain lines take orjson, the others json with Decimal: both give the same raw texts
    lines = [
        '{"sale_id": "s1", "amount": 1500, "status": "posted,x", "is_deleted": false,'
        ' "location_id": "l", "created_at": "c", "updated_at": "u"}',
        '{"sale_id": "s2", "amount": 1500.10, "status": null}',
        '{"sale_id": "s3", "amount": 12345678901234567890123, "status": "a\\"b"}',
        '{"sale_id": "s4", "amount": [1.50, {"x": 2}], "status": "\\u0442"}',
    ]
    land(tmp_path / "landing", "sales", "a.jsonl", "\n".join(lines) + "\n")
    run(tmp_path)
    rows = pq.read_table(next((tmp_path / "state" / "raw" / "sales").glob("*.parquet")))
    got = rows.select(["sale_id", "amount", "status", "is_deleted"]).to_pylist()
    assert got == [
        {"sale_id": "s1", "amount": "1500", "status": "posted,x", "is_deleted": "false"},
        {"sale_id": "s2", "amount": "1500.10", "status": None, "is_deleted": None},
        {"sale_id": "s3", "amount": "12345678901234567890123", "status": 'a"b', "is_deleted": None},
        {"sale_id": "s4", "amount": '[1.50,{"x":2}]', "status": "т", "is_deleted": None},
    ]


# Each line alone as a file: DuckDB reads it whole (True) or declines it to the exact parser.
PLAIN_OR_NOT = [
    ('{"sale_id": "s1", "amount": 1500, "status": "posted, \\"x\\": 1.5"}', False),
    ('{"sale_id": "s1", "amount": 1500, "status": "a,b"}', True),
    ('{"sale_id": "s1", "amount": -0, "is_deleted": false, "deal_id": null}', True),
    ('{"sale_id": "s1", "amount": -7, "is_deleted": true, "note": ""}', True),
    ('{"sale_id": "\\u0442\\"\\\\", "amount": 123456789012345678}', True),
    ('{"sale_id": "s1", "amount": 1234567890123456789}', False),
    ('{"sale_id": "s1", "amount": 1500.10}', False),
    ('{"sale_id": "s1", "amount": 1e3}', False),
    ('{"sale_id": "s1", "amount": [1, 2]}', False),
    ('{"sale_id": "s1", "meta": {"a": 1}}', False),
    ('{"sale_id": "s1", "amount": NaN}', False),
    ('{"sale_id": "s1", "amount": -Infinity}', False),
    ('{"sale_id": "s1", "amount": 1,}', False),
    ('{"sale_id": "s1", "amount": 1, "amount": 2}', False),
    ('{"sale_id": "s1", "Amount": 1}', False),
    ('{"sale_id": "\\ud800"}', False),
    ('{"sale_id": "x\\u0000y"}', False),
    ("[1, 2]", False),
    ("{}", False),
]


@pytest.mark.parametrize(("line", "plain"), PLAIN_OR_NOT)
def test_jsonl_plain_files_read_by_duckdb_give_the_exact_parsers_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, plain: bool
) -> None:
    path = land(tmp_path, "sales", "a.jsonl", f"\ufeff{line}\r\n \n{line}\n")
    assert (jsonl_plain.read_plain(path) is not None) is plain

    def read(max_bytes: int) -> tuple[list[str], list[list[str | None]]] | str:
        monkeypatch.setattr(jsonl_plain, "MAX_BYTES", max_bytes)
        try:
            source = JsonlSource(path)
        except Rejected as e:
            return str(e)
        columns = [pa.concat_arrays(c).to_pylist() for c in zip(*source.batches(), strict=True)]
        return list(source.header), columns

    assert read(jsonl_plain.MAX_BYTES) == read(0)


def test_jsonl_plain_file_of_many_lines_keeps_line_order_and_key_union(tmp_path: Path) -> None:
    lines = [
        json.dumps({"sale_id": f"s{i}", "amount": i, **({"deal_id": f"d{i}"} if i % 3 else {})})
        for i in range(20_000)
    ]
    path = land(tmp_path, "sales", "a.jsonl", "\n".join(lines) + "\n")
    plain = jsonl_plain.read_plain(path)
    assert plain is not None
    header, table = plain
    assert header == ["sale_id", "amount", "deal_id"]
    assert table.column("sale_id").to_pylist() == [f"s{i}" for i in range(20_000)]
    assert table.column("deal_id").to_pylist()[:4] == [None, "d1", "d2", None]
    assert table.column("amount").to_pylist()[-1] == "19999"


def test_jsonl_required_key_on_any_line_is_enough(tmp_path: Path) -> None:
    lines = [
        '{"sale_id": "s1", "location_id": "l", "amount": 1}',
        '{"status": "posted", "created_at": "c", "updated_at": "u"}',
    ]
    land(tmp_path / "landing", "sales", "a.jsonl", "\n".join(lines))
    assert record(run(tmp_path), "sales", "a.jsonl").status == "loaded"


# --- whole-file rejections ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.csv", b"", "empty file (0 bytes)"),
        ("empty.jsonl", b"", "empty file (0 bytes)"),
        (
            "latin1.csv",
            (CLIENT_HEADER + "\nc1,l1,Jos\xe9,x\n").encode("latin-1"),
            "not valid UTF-8 (line 2)",
        ),
        ("utf16.csv", (CLIENT_HEADER + "\n").encode("utf-16"), "not valid UTF-8 (line 1)"),
        ("latin1.jsonl", b'{"client_id": "\xe9"}\n', "not valid UTF-8 (line 1)"),
        (
            "missing.csv",
            b"Client_ID,location_id\nc1,l1\n",
            "missing required columns: registered_at, updated_at",
        ),
        (
            "missing1.csv",
            b"client_id,location_id,registered_at\n",
            "missing required column: updated_at",
        ),
        (
            "dupcol.csv",
            (CLIENT_HEADER + ", Client_ID\n").encode(),
            "duplicate column 'client_id' (columns 1 and 5)",
        ),
        (
            "reserved.csv",
            (CLIENT_HEADER + ",_row_number\n").encode(),
            "column name reserved for ingestion metadata: _row_number",
        ),
        (
            "ragged.csv",
            (CLIENT_HEADER + '\nc1,l1,r,u\nc2,"l\n1",r,u\nc3,l1,r,u,+79123456789\n').encode(),
            "row 3 has 5 fields, header has 4",
        ),
        (
            "short.csv",
            (CLIENT_HEADER + "\nc1,l1,r,u\n\nc2,l1\n").encode(),
            "row 2 has 2 fields, header has 4",
        ),
        (
            "unnamed.csv",
            (CLIENT_HEADER + ",\nc1,l1,r,u,\nc2,l1,r,u,oops\n").encode(),
            "column 5 has no header but row 2 has a value in it",
        ),
        ("blank.csv", b"\n\n", "no header row"),
        ("blank.jsonl", b"\n \n", "no records (only blank lines)"),
    ],
)
def test_rejected_whole(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = land(tmp_path / "landing", "clients", name, data)
    result = run(tmp_path)
    rec = record(result, "clients", name)
    assert (rec.status, rec.reason, rec.rows_read, rec.parquet_path) == (
        "rejected",
        reason,
        0,
        None,
    )
    assert result.rejected == [rec]
    assert path.read_bytes() == data  # left in place
    assert raw_files(tmp_path) == []
    assert list((tmp_path / "state" / "raw").rglob("*")) in ([], [tmp_path / "state/raw/clients"])


def test_missing_required_records_header(tmp_path: Path) -> None:
    land(tmp_path / "landing", "clients", "a.csv", "Client_ID,Extra\nc1,x\n")
    rec = record(run(tmp_path), "clients", "a.csv")
    assert rec.columns == ("client_id", "extra")


def test_unnamed_empty_column_is_dropped(tmp_path: Path) -> None:
    land(tmp_path / "landing", "clients", "a.csv", CLIENT_HEADER + ",\nc1,l1,r,u,\n")
    rec = record(run(tmp_path), "clients", "a.csv")
    assert rec.status == "loaded" and rec.columns == tuple(CLIENT_HEADER.split(","))
    assert "" not in rows(tmp_path, rec)[0]


def test_sales_posted_at_is_optional(tmp_path: Path) -> None:
    land(
        tmp_path / "landing",
        "sales",
        "a.csv",
        "sale_id,location_id,amount,status,created_at,updated_at\ns1,l1,1,draft,c,u\n",
    )
    assert record(run(tmp_path), "sales", "a.csv").status == "loaded"


def test_rejection_reasons_and_logs_never_quote_values(tmp_path: Path, caplog) -> None:
    secret = "+79123456789"
    land(
        tmp_path / "landing",
        "clients",
        "a.csv",
        f"{CLIENT_HEADER}\nc1,l1,r,u\n{secret},{secret},{secret}\n",
    )
    land(
        tmp_path / "landing",
        "clients",
        "b.csv",
        f"{CLIENT_HEADER}\n{secret},l1,r,u,{secret}\n".encode() + b"\xff",
    )
    land(tmp_path / "landing", "clients", "c.jsonl", f'{{"client_id": "{secret}"}}\n{{{secret}\n')
    with caplog.at_level(logging.DEBUG, logger="crm_analytics.ingest"):
        result = run(tmp_path)
    assert len(result.rejected) == 3
    text = caplog.text + json.dumps([r.reason for r in result.ledger()])
    assert "9123456789" not in text
    assert record(result, "clients", "a.csv").reason == "row 2 has 3 fields, header has 4"


# --- discovery ---------------------------------------------------------------------------


def test_ignored_paths_warn_and_stay_out_of_ledger(tmp_path: Path, caplog) -> None:
    landing = tmp_path / "landing"
    good = CLIENT_HEADER + "\nc1,l1,r,u\n"
    land(landing, "clients", "ok.csv", good)
    ignored = [
        land(landing, "", "top.csv", good),
        land(landing, "clients/2026", "nested.csv", good).parent,
        land(landing, "Clients", "wrong-case-folder.csv", good).parent,
        land(landing, "unknown", "a.csv", good).parent,
        land(landing, "clients", "upper.CSV", good),
        land(landing, "clients", "notes.txt", good),
        land(landing, "clients", ".hidden.csv", good),
        land(landing, "clients", "~$lock.xlsx", b"x"),
    ]
    with caplog.at_level(logging.WARNING, logger="crm_analytics.ingest"):
        result = run(tmp_path)
    assert sorted(i.path for i in result.ignored) == sorted(ignored)
    assert [(r.entity, r.file_name) for r in result.ledger()] == [("clients", "ok.csv")]
    for path in ignored:
        assert str(path) in caplog.text
        assert any(str(path) in w for w in result.warnings)


def test_missing_landing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        run(tmp_path)


def test_empty_landing(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    result = run(tmp_path)
    assert result.totals == {
        "loaded": 0,
        "duplicates": 0,
        "rejected": 0,
        "skipped": 0,
        "ignored": 0,
        "rows_loaded": 0,
    }
    assert result.ledger() == []


def test_naive_now_is_refused(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    with pytest.raises(ValueError):
        ingest(tmp_path / "landing", tmp_path / "state", now=dt.datetime(2026, 1, 1))
