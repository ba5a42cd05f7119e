"""Issue 2 rules end to end on real extracts: chain clients, versions, deletes, idempotency,
ledger accounting and typed xlsx/jsonl cells. Expected values are worked out by hand."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from crm_analytics.config import Settings
from tests.pipeline import refresh, write_landing

LOCATIONS = [
    {"location_id": "L1", "name": "Москва", "timezone": "Europe/Moscow", "location_group": "M"},
    {
        "location_id": "L2",
        "name": "Екатеринбург",
        "timezone": "Asia/Yekaterinburg",
        "location_group": "U",
    },
]


def md5(key: str) -> str:
    return hashlib.md5(key.encode()).hexdigest()


def settings_for(root: Path) -> Settings:
    return Settings(
        landing=root / "landing", warehouse=root / "wh.duckdb", reports_dir=root / "reports"
    )


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


# --- chain clients ---------------------------------------------------------------------------

CLIENTS = [
    # one person, three records: +7 (912)..., 8912..., 912... all normalise to 79123456789
    {
        "client_id": "R1",
        "location_id": "L1",
        "name": "Анна",
        "phone": "+7 (912) 345-67-89",
        "email": "anna@mail.ru",
        "gender": "ж",
        "importance": "Silver",
        "card_number": "111",
        "registered_at": "2025-01-10 10:00",
        "balance": "100.00",
        "updated_at": "2025-02-01 10:00",
    },
    {
        "client_id": "R2",
        "location_id": "L2",
        "name": "Анна К.",
        "phone": "89123456789",
        "gender": "",
        "importance": "GOLD",
        "card_number": "222",
        "registered_at": "2025-01-10 11:00",
        "balance": "50,50",
        "updated_at": "2025-03-01 10:00",
    },
    # a second record of the same person in the same location
    {
        "client_id": "R3",
        "location_id": "L1",
        "name": "Анна Дубль",
        "phone": "9123456789",
        "card_number": "111",
        "registered_at": "2025-02-01 10:00",
        "updated_at": "2025-01-15 10:00",
    },
    # no valid phone: keyed by the normalised email
    {
        "client_id": "R4",
        "location_id": "L1",
        "name": "Борис",
        "email": " Boris@Mail.RU ",
        "gender": "m",
        "registered_at": "2025-01-05 10:00",
        "updated_at": "2025-01-20 10:00",
    },
    {
        "client_id": "R5",
        "location_id": "L2",
        "name": "Борис Б.",
        "phone": "123",
        "email": "boris@mail.ru",
        "registered_at": "2025-01-06 10:00",
        "updated_at": "2025-01-21 10:00",
    },
    # neither: keyed by the record
    {
        "client_id": "R6",
        "location_id": "L1",
        "name": "Без контактов",
        "registered_at": "2025-01-07 10:00",
    },
    {
        "client_id": "R7",
        "location_id": "L1",
        "name": "Тоже без",
        "phone": "abc",
        "email": "not-an-email",
        "registered_at": "2025-01-07 10:00",
    },
    # shares Boris's email but has a valid phone: its own key, no transitive merge
    {
        "client_id": "R8",
        "location_id": "L2",
        "name": "Телефон и почта",
        "phone": "+7 999 111 22 33",
        "email": "boris@mail.ru",
        "registered_at": "2025-01-08 10:00",
    },
]


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Settings:
    settings = settings_for(tmp_path_factory.mktemp("chain"))
    write_landing(
        settings.landing,
        {
            "locations": LOCATIONS,
            "clients": CLIENTS,
            "sales": [  # a fact of a client with no record keeps client:<id>
                {
                    "sale_id": "s1",
                    "location_id": "L1",
                    "client_id": "GHOST",
                    "amount": "10",
                    "status": "posted",
                    "posted_at": "2025-03-01 10:00",
                    "created_at": "2025-03-01 10:00",
                },
            ],
        },
    )
    refresh(settings)
    return settings


def test_chain_clients_merge_by_phone_then_email_then_record(chain):
    rows = query(
        chain.warehouse,
        "select identity_key, chain_client_id, client_records "
        "from marts.dim_clients order by identity_key",
    )
    assert rows == [
        ("client:R6", md5("client:R6"), 1),
        ("client:R7", md5("client:R7"), 1),
        ("email:boris@mail.ru", md5("email:boris@mail.ru"), 2),
        ("phone:79123456789", md5("phone:79123456789"), 3),
        ("phone:79991112233", md5("phone:79991112233"), 1),
    ]


def test_chain_client_attributes_follow_the_contract(chain):
    (anna,) = query(
        chain.warehouse,
        f"""
        select client_name, phone, email, card_numbers, gender, importance, registered_at,
               balance, location_ids
        from marts.dim_clients where chain_client_id = '{md5("phone:79123456789")}'""",
    )
    assert anna == (
        "Анна К.",  # R2 was updated last
        "+79123456789",
        "anna@mail.ru",  # the latest valid email among the records (only R1 has one)
        "111,222",  # distinct, sorted, no space
        "female",  # R2 is unknown, so the latest known gender (R1)
        "gold",  # highest of silver, gold, none
        # R2 registered 11:00 Yekaterinburg = 06:00 UTC, before R1 (10:00 Moscow = 07:00
        # UTC): the earliest, shown in R2's local time
        datetime(2025, 1, 10, 11, 0),
        Decimal("150.50"),  # 100.00 + 50,50 + 0
        "L1,L2",
    )
    (boris,) = query(
        chain.warehouse,
        f"""
        select client_name, phone, email, gender from marts.dim_clients
        where chain_client_id = '{md5("email:boris@mail.ru")}'""",
    )
    # R5 updated last (name; gender unknown there so R4's m); email-keyed: no phone
    assert boris == ("Борис Б.", None, "boris@mail.ru", "male")


def test_mart_columns_constrained_not_null_are_not_null_in_the_warehouse(chain, tmp_path):
    # The marts' not-null rules are contract constraints, which DuckDB enforces on every
    # insert (a full build and each scoped replace), instead of a data test per column.
    spec = yaml.safe_load(
        (Path(__file__).parents[1] / "dbt_project/models/marts/_marts__models.yml").read_text()
    )
    declared = {
        (model["name"], column["name"])
        for model in spec["models"]
        for column in model["columns"]
        if {"type": "not_null"} in column.get("constraints", [])
    }
    assert ("fct_sales", "sale_id") in declared and len(declared) > 50
    with duckdb.connect(str(chain.warehouse), read_only=True) as con:
        nullable = {
            (table, column): is_nullable
            for table, column, is_nullable in con.execute(
                "select table_name, column_name, is_nullable from information_schema.columns "
                "where table_schema = 'marts'"
            ).fetchall()
        }
    assert {key for key in declared if nullable.get(key) != "NO"} == set()
    assert nullable[("fct_sales", "deal_id")] == "YES"  # optional columns stay nullable
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(chain.warehouse.read_bytes())
    with duckdb.connect(str(copy)) as con, pytest.raises(duckdb.ConstraintException):
        con.execute("update marts.fct_sales set sale_id = null")


def test_fact_without_client_record_keeps_client_key(chain):
    assert query(chain.warehouse, "select chain_client_id from marts.fct_sales") == [
        (md5("client:GHOST"),)
    ]
    assert query(
        chain.warehouse,
        f"select count(*) from marts.dim_clients where chain_client_id = '{md5('client:GHOST')}'",
    ) == [(0,)]


# --- versions and deletes --------------------------------------------------------------------


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> Settings:
    settings = settings_for(tmp_path_factory.mktemp("versions"))

    def c(cid, name, updated_at, location="L1", **extra):
        return {
            "client_id": cid,
            "location_id": location,
            "name": name,
            "registered_at": "2025-01-01 00:00",
            "updated_at": updated_at,
            **extra,
        }

    write_landing(settings.landing, {"locations": LOCATIONS}, "0.csv")
    write_landing(
        settings.landing,
        {
            "clients": [
                c("C1", "старое", "2025-01-01 10:00"),
                c("C2", "первая", "2025-01-01 10:00"),
                c("C2", "вторая", "2025-01-01 10:00"),  # same file, same updated_at: the later row
                c("C3", "A", "2025-01-01 10:00"),
                c("C4", "удалят", "2025-01-01 10:00"),
                c("C5", "utc07", "2025-01-02 10:00+03:00", location="L2"),
            ]
        },
        "a.csv",
    )
    write_landing(
        settings.landing,
        {
            "clients": [
                c("C1", "новое", "2025-01-02 10:00"),
                c("C3", "B", "2025-01-01 10:00"),  # equal updated_at: the later file wins
                c("C4", "удалят", "2025-01-02 10:00", is_deleted="да"),
                # 11:00 in Yekaterinburg is 06:00 UTC: older than a.csv's 07:00 UTC version
                c("C5", "utc06", "2025-01-02 11:00", location="L2"),
            ]
        },
        "b.csv",
    )
    write_landing(
        settings.landing,
        {
            "clients": [
                c("C1", "откат", "2025-01-01 12:00"),  # a later file with an older version: ignored
            ]
        },
        "c.csv",
    )
    refresh(settings)
    return settings


def test_versions_across_files_and_within_one_file(versions):
    names = dict(
        query(versions.warehouse, "select client_id, client_name from marts.dim_client_records")
    )
    assert names == {"C1": "новое", "C2": "вторая", "C3": "B", "C5": "utc07"}


def test_deleted_current_version_removes_the_key(versions):
    assert query(
        versions.warehouse, "select count(*) from marts.dim_client_records where client_id = 'C4'"
    ) == [(0,)]


# --- idempotency and the ledger --------------------------------------------------------------


def _raw_zone(state_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(state_dir)): p.read_bytes()
        for p in sorted(state_dir.rglob("*"))
        if p.is_file() and p.parts[len(state_dir.parts)] in ("raw", "ledger")
    }


def _marts(path: Path) -> dict[str, list[tuple]]:
    tables = query(
        path,
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema in ('marts', 'audit') order by 1",
    )
    return {t: sorted(query(path, f"select * from {t}"), key=repr) for (t,) in tables}


def test_ingest_twice_gives_identical_raw_zone_and_marts(chain):
    raw_before, marts_before = _raw_zone(chain.state_dir), _marts(chain.warehouse)
    refresh(chain)
    assert _raw_zone(chain.state_dir) == raw_before
    assert _marts(chain.warehouse) == marts_before


def test_ledger_accounts_for_every_row(tmp_path):
    settings = settings_for(tmp_path)
    write_landing(
        settings.landing,
        {
            "locations": LOCATIONS,
            "clients": [
                {"client_id": "OK", "location_id": "L1", "registered_at": "2025-01-01 10:00"},
                {"client_id": "BAD", "location_id": "L1", "registered_at": "01/02/2025"},
                {
                    "client_id": "",
                    "location_id": "L1",
                    "registered_at": "2025-01-01 10:00",
                    "balance": "12 руб",
                },
            ],
        },
    )
    (settings.landing / "clients" / "copy.csv").write_bytes(
        (settings.landing / "clients" / "extract.csv").read_bytes()
    )
    (settings.landing / "sales").mkdir()
    (settings.landing / "sales" / "no_amount.csv").write_text(
        "sale_id,location_id,status,created_at,updated_at\ns1,L1,posted,2025-01-01,2025-01-01\n"
    )
    refresh(settings)
    ledger = query(
        settings.warehouse,
        """
        select entity, file_name, status, rows_read, rows_loaded, rows_quarantined, reason
        from audit.audit_ingest_ledger order by entity, file_name""",
    )
    assert ledger == [
        ("clients", "copy.csv", "loaded", 3, 1, 2, None),  # lexically first of the twins
        ("clients", "extract.csv", "duplicate", 0, 0, 0, "same content as copy.csv"),
        ("locations", "extract.csv", "loaded", 2, 2, 0, None),
        ("sales", "no_amount.csv", "rejected", 0, 0, 0, "missing required column: amount"),
    ]
    quarantined = query(
        settings.warehouse,
        """
        select file_name, row_number, column_name, value, reason
        from audit.audit_quarantined_rows order by row_number, column_name""",
    )
    assert quarantined == [
        ("copy.csv", 2, "registered_at", "01/02/2025", "unparseable timestamp"),
        ("copy.csv", 3, "client_id", None, "missing required value"),
    ]
    # the optional balance of row 3 would only warn, but the row is quarantined anyway
    assert query(settings.warehouse, "select count(*) from audit.audit_value_warnings") == [(0,)]


# --- typed cells -----------------------------------------------------------------------------


def test_typed_xlsx_and_jsonl_values_reach_staging(tmp_path):
    settings = settings_for(tmp_path)
    write_landing(settings.landing, {"locations": LOCATIONS})
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Client_ID ", "location_id", "registered_at", "balance", "updated_at"])
    sheet.append(["X1", "L2", datetime(2025, 3, 1, 9, 30), 1500.5, datetime(2025, 3, 2)])
    (settings.landing / "clients").mkdir()
    workbook.save(settings.landing / "clients" / "a.xlsx")
    (settings.landing / "promo_codes").mkdir()
    (settings.landing / "promo_codes" / "a.jsonl").write_text(
        json.dumps(
            {
                "promo_code_id": "P1",
                "code": "SPRING",
                "location_id": "L1",
                "activation_limit": 3.0,
                "bonus_per_activation": 250.25,
                "first_topup_only": True,
                "starts_at": "2025-03-01T00:00:00Z",
                "updated_at": "2025-03-01 00:00",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    refresh(settings)
    assert query(
        settings.warehouse,
        """
        select client_id, registered_at, registered_at_utc, balance
        from marts.dim_client_records""",
    ) == [
        # a datetime cell is wall-clock time at L2 (UTC+5)
        ("X1", datetime(2025, 3, 1, 9, 30), datetime(2025, 3, 1, 4, 30), Decimal("1500.5")),
    ]
    assert query(
        settings.warehouse,
        """
        select activation_limit, bonus_per_activation, first_topup_only, starts_at
        from marts.dim_promo_codes""",
    ) == [
        # 3.0 as a JSON number is an integer; Z converts to Moscow time (UTC+3)
        (3, Decimal("250.25"), True, datetime(2025, 3, 1, 3, 0)),
    ]
