"""write_raw_views: the raw schema in a real DuckDB over a real raw zone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from crm_analytics.contract import ENTITY_NAMES, entities
from crm_analytics.ingest import ingest, write_raw_views

T1 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 5, 2, 9, 30, tzinfo=dt.UTC)
HEADER = "client_id,location_id,registered_at,updated_at"


def land(root: Path, entity: str, name: str, data: str) -> Path:
    path = root / "landing" / entity / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data, encoding="utf-8")
    return path


def columns(con: duckdb.DuckDBPyConnection, view: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE raw.{view}").fetchall()]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # The views must not depend on the session time zone.
    con.execute("SET TimeZone = 'Asia/Tokyo'")
    return con


def test_views_on_empty_state(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    write_raw_views(con, tmp_path / "state")
    for name, entity in entities().items():
        assert columns(con, name) == [(c, "VARCHAR") for c in entity.column_names] + [
            ("_source_file", "VARCHAR"),
            ("_row_number", "BIGINT"),
            ("_ingested_at", "TIMESTAMP"),
        ]
        assert con.execute(f"SELECT count(*) FROM raw.{name}").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM raw.ingested_files").fetchone() == (0,)
    assert len(ENTITY_NAMES) == 11


def test_views_on_loaded_state(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    land(tmp_path, "clients", "2026-05-02.csv", f"{HEADER},Phone,tier\nc1,l1,r,u,+7 912,gold\n")
    land(tmp_path, "clients", "2026-05-03.csv", f"{HEADER},Tier\nc2,l1,r,u,silver\nc3,l2,r,u,\n")
    land(tmp_path, "clients", "2026-05-04.csv", f"{HEADER},shoe size\nc4,l1,r,u,42\n")
    land(tmp_path, "clients", "bad.csv", "client_id\nc9\n")
    ingest(tmp_path / "landing", tmp_path / "state", now=T1)
    land(tmp_path, "clients", "2026-05-01.csv", f"{HEADER},Phone,tier\nc1,l1,r,u,+7 912,gold\n")
    ingest(tmp_path / "landing", tmp_path / "state", now=T2)
    write_raw_views(con, tmp_path / "state")

    contract = [c for c, _ in columns(con, "clients")][:12]
    assert contract == list(entities()["clients"].column_names)
    assert [c for c, _ in columns(con, "clients")][12:] == [
        "tier",
        "shoe size",
        "_source_file",
        "_row_number",
        "_ingested_at",
    ]
    got = con.execute(
        'SELECT client_id, phone, email, tier, "shoe size", _source_file, _row_number, '
        "_ingested_at FROM raw.clients ORDER BY client_id"
    ).fetchall()
    t1 = T1.replace(tzinfo=None)
    assert got == [
        # The copy landed later but sorting first takes over the name; the rows keep the
        # ingestion time of the content.
        ("c1", "+7 912", None, "gold", None, "2026-05-01.csv", 1, t1),
        ("c2", None, None, "silver", None, "2026-05-03.csv", 1, t1),
        ("c3", None, None, "", None, "2026-05-03.csv", 2, t1),
        ("c4", None, None, None, "42", "2026-05-04.csv", 1, t1),
    ]
    ledger = con.execute(
        "SELECT file_name, status, reason, rows_read, columns, extra_columns, "
        "parquet_path IS NOT NULL, ingested_at FROM raw.ingested_files ORDER BY file_name"
    ).fetchall()
    assert ledger == [
        (
            "2026-05-01.csv",
            "loaded",
            None,
            1,
            f"{HEADER},phone,tier",
            "tier",
            True,
            T2.replace(tzinfo=None),
        ),
        (
            "2026-05-02.csv",
            "duplicate",
            "same content as 2026-05-01.csv",
            0,
            f"{HEADER},phone,tier",
            "tier",
            False,
            t1,
        ),
        ("2026-05-03.csv", "loaded", None, 2, f"{HEADER},tier", "tier", True, t1),
        ("2026-05-04.csv", "loaded", None, 1, f"{HEADER},shoe size", "shoe size", True, t1),
        (
            "bad.csv",
            "rejected",
            "missing required columns: location_id, registered_at, updated_at",
            0,
            "client_id",
            "",
            False,
            t1,
        ),
    ]
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'ingested_files'"
        ).fetchall()
    )
    assert types["file_size"] == types["rows_read"] == types["file_mtime_ns"] == "BIGINT"
    assert types["ingested_at"] == "TIMESTAMP"


def test_views_are_recreated_and_work_from_another_connection(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    state = tmp_path / "state"
    with duckdb.connect(str(db)) as con:
        write_raw_views(con, state)
    land(tmp_path, "clients", "a.csv", f"{HEADER}\nc1,l1,r,u\n")
    ingest(tmp_path / "landing", state, now=T1)
    with duckdb.connect(str(db)) as con:
        write_raw_views(con, state)
        write_raw_views(con, state)  # idempotent
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT client_id, _source_file FROM raw.clients").fetchall() == [
            ("c1", "a.csv")
        ]


def test_paths_and_names_with_quotes(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    root = tmp_path / 'it\'s "odd"'
    land(root, "clients", "o'brien; DROP TABLE x.csv", f'{HEADER},"we""ird"\nc1,l1,r,u,v\n')
    ingest(root / "landing", root / "state", now=T1)
    write_raw_views(con, root / "state")
    assert con.execute('SELECT _source_file, "we""ird" FROM raw.clients').fetchall() == [
        ("o'brien; DROP TABLE x.csv", "v")
    ]


def test_many_files(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    for i in range(300):
        extra = ",note" if i % 3 == 0 else ""
        value = ",n" if extra else ""
        land(tmp_path, "clients", f"{i:04d}.csv", f"{HEADER}{extra}\nc{i},l1,r,u{value}\n")
    ingest(tmp_path / "landing", tmp_path / "state", now=T1)
    write_raw_views(con, tmp_path / "state")
    assert con.execute(
        "SELECT count(*), count(DISTINCT _source_file), count(note), max(_row_number) "
        "FROM raw.clients"
    ).fetchone() == (300, 300, 100, 1)
    assert con.execute(
        "SELECT count(*) FROM raw.clients WHERE _source_file <> printf('%04d.csv', "
        "CAST(substr(client_id, 2) AS INT))"
    ).fetchone() == (0,)


def test_missing_parquet_is_left_out(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    land(tmp_path, "clients", "a.csv", f"{HEADER}\nc1,l1,r,u\n")
    land(tmp_path, "clients", "b.csv", f"{HEADER}\nc2,l1,r,u\n")
    result = ingest(tmp_path / "landing", tmp_path / "state", now=T1)
    (tmp_path / "state" / result.loaded[0].parquet_path).unlink()
    write_raw_views(con, tmp_path / "state")
    assert con.execute("SELECT client_id FROM raw.clients").fetchall() == [("c2",)]


def test_two_loaded_names_for_one_content_count_once(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, monkeypatch
) -> None:
    from crm_analytics.ingest import ledger

    land(tmp_path, "clients", "b.csv", f"{HEADER}\nc1,l1,r,u\n")
    ingest(tmp_path / "landing", tmp_path / "state", now=T1)
    land(tmp_path, "clients", "a.csv", f"{HEADER}\nc1,l1,r,u\n")
    real = ledger.save

    def save_loaded_only(state_dir: Path, record: ledger.LedgerRecord) -> None:
        if record.status != "loaded":
            raise KeyboardInterrupt  # the run dies before demoting b.csv
        real(state_dir, record)

    monkeypatch.setattr(ledger, "save", save_loaded_only)
    with pytest.raises(KeyboardInterrupt):
        ingest(tmp_path / "landing", tmp_path / "state", now=T2)
    write_raw_views(con, tmp_path / "state")
    assert con.execute("SELECT client_id, _source_file FROM raw.clients").fetchall() == [
        ("c1", "a.csv")
    ]
