"""Refreshing batch by batch must give exactly what one refresh of all the files gives,
including late corrections and deletes of rows from earlier batches, a lexically earlier copy
of an ingested file arriving later, and a rejected file."""

from __future__ import annotations

from decimal import Decimal
from hashlib import md5
from pathlib import Path

import duckdb
import pytest
import yaml

from crm_analytics.config import Settings
from crm_analytics.contract import DBT_PROJECT_DIR
from tests.pipeline import refresh, write_landing

LOCATIONS = [
    {"location_id": "L1", "name": "Центр", "timezone": "Europe/Moscow"},
    {"location_id": "L2", "name": "Урал", "timezone": "Asia/Yekaterinburg"},
]


def client(cid, phone, updated_at, **extra):
    return {
        "client_id": cid,
        "location_id": extra.pop("location_id", "L1"),
        "name": f"Клиент {cid}",
        "phone": phone,
        "registered_at": "2025-01-01 10:00",
        "updated_at": updated_at,
        **extra,
    }


def sale(sid, cid, amount, updated_at, status="posted", **extra):
    return {
        "sale_id": sid,
        "location_id": "L1",
        "client_id": cid,
        "amount": amount,
        "status": status,
        "posted_at": "2025-02-01 12:00" if status == "posted" else None,
        "created_at": "2025-02-01 11:00",
        "updated_at": updated_at,
        **extra,
    }


def visit(aid, cid, starts_at, status, updated_at):
    return {
        "appointment_id": aid,
        "visit_id": f"V{aid}",
        "location_id": "L1",
        "client_id": cid,
        "starts_at": starts_at,
        "created_at": "2025-01-20 10:00",
        "status": status,
        "updated_at": updated_at,
    }


def activation(aid, cid, activated_at, updated_at, **extra):
    return {
        "activation_id": aid,
        "promo_code_id": "P1",
        "client_id": cid,
        "activated_at": activated_at,
        "bonus_amount": "100",
        "updated_at": updated_at,
        **extra,
    }


def activity(aid, cid, occurred_at, updated_at, **extra):
    return {
        "activity_id": aid,
        "client_id": cid,
        "location_id": "L1",
        "associate_id": "E1",
        "activity_type": "call",
        "occurred_at": occurred_at,
        "updated_at": updated_at,
        **extra,
    }


def sms(mid, cid, sent_at, updated_at, **extra):
    return {
        "message_id": mid,
        "client_id": cid,
        "sent_at": sent_at,
        "status": "delivered",
        "updated_at": updated_at,
        **extra,
    }


BATCHES: list[list[tuple[str, str, list[dict]]]] = [
    [  # day 1
        ("locations", "2025-02-01.csv", LOCATIONS),
        (
            "specialists",
            "2025-02-01.csv",
            [{"specialist_id": "E1", "location_id": "L1", "name": "Ирина"}],
        ),
        (
            "promo_codes",
            "2025-02-01.csv",
            [
                {
                    "promo_code_id": "P1",
                    "code": "SPRING",
                    "location_id": "L1",
                    "starts_at": "2025-01-01 00:00",
                }
            ],
        ),
        (
            "clients",
            "2025-02-01.csv",
            [
                client("C1", "+7 900 111-11-11", "2025-02-01 09:00"),
                client("C2", "+7 900 222-22-22", "2025-02-01 09:00"),
                client("C3", "+7 900 333-33-33", "2025-02-01 09:00"),
                client("C7", "+7 900 777-77-77", "2025-02-01 09:00"),
            ],
        ),
        (
            "sales",
            "2025-02-01.csv",
            [
                sale("S1", "C1", "100.00", "2025-02-01 12:00"),
                # never changes; C2's activity reaches it only once C2 joins C1 (day 2)
                sale("S10", "C1", "10.00", "2025-02-01 12:00"),
                sale("S2", "C2", "200.00", "2025-02-01 12:00"),
                sale("S3", "C3", "300,50", "2025-02-01 12:00"),
                sale("S7", "C7", "70.00", "2025-02-01 12:00", deal_id="D7"),
                sale("S8", "C7", "80.00", "2025-02-01 12:00", deal_id="D7"),
            ],
        ),
        (
            "deals",
            "2025-02-01.csv",
            [
                {
                    "deal_id": "D7",
                    "location_id": "L1",
                    "client_id": "C7",
                    "opened_at": "2025-01-31 10:00",
                    "status": "open",
                }
            ],
        ),
        (
            "appointments",
            "2025-02-01.csv",
            [
                visit("A1", "C1", "2025-02-01 10:00", "booked", "2025-02-01 09:00"),
                {
                    **visit("A7", "C7", "2025-02-01 11:00", "arrived", "2025-02-01 09:00"),
                    "visit_id": "V77",
                },
                {
                    **visit("A8", "C2", "2025-02-01 12:00", "arrived", "2025-02-01 09:00"),
                    "visit_id": "V77",
                },
            ],
        ),
        (
            "promo_activations",
            "2025-02-01.csv",
            [
                activation("PA1", "C1", "2025-02-01 08:00", "2025-02-01 09:00"),
                activation("PA2", "C2", "2025-02-01 09:30", "2025-02-01 09:40"),
            ],
        ),
        (
            "activities",
            "2025-02-01.csv",
            [activity("AC1", "C2", "2025-01-30 10:00", "2025-02-01 09:00")],
        ),
        (
            "sms_messages",
            "2025-02-01.csv",
            [sms("M1", "C4", "2025-02-01 10:00", "2025-02-01 10:00")],
        ),
    ],
    [  # day 2: corrections and deletes of day-1 rows, new rows
        (
            "clients",
            "2025-02-02.csv",
            [
                # C2's phone is corrected to C1's: the two records become one chain client,
                # which renumbers C2's activation and joins C2's activity to C1's sales
                client("C2", "89001111111", "2025-02-02 09:00"),
                client("C3", "+7 900 333-33-33", "2025-02-02 09:00", is_deleted="да"),
                # C4 appears (SMS M1 came first): in L2, so M1 moves to its time zone
                client("C4", "+7 900 444-44-44", "2025-02-02 09:00", location_id="L2"),
            ],
        ),
        (
            "sales",
            "2025-02-02.csv",
            [
                sale("S1", "C1", "100.00", "2025-02-02 12:00", status="cancelled"),
                sale("S4", "C4", "400.00", "2025-02-02 12:00", deal_id="D1"),
                sale("S5", "C4", "50.00", "2025-02-02 12:00", deal_id="D1"),
                # S8 is moved off deal D7 onto D1: D7 loses a realization
                sale("S8", "C4", "80.00", "2025-02-02 12:00", deal_id="D1"),
            ],
        ),
        (
            "appointments",
            "2025-02-02.csv",
            [
                visit("A1", "C1", "2025-02-01 10:00", "arrived", "2025-02-02 09:00"),
                # A7 (C7) is deleted: V77's first appointment is now A8 (C2)
                {
                    **visit("A7", "C7", "2025-02-01 11:00", "arrived", "2025-02-02 09:00"),
                    "visit_id": "V77",
                    "is_deleted": "true",
                },
            ],
        ),
    ],
    [  # day 3: a late correction older than the current version, a bad row, a deleted sale
        (
            "clients",
            "2025-02-03.csv",
            [
                client("C2", "+7 900 222-22-22", "2025-02-01 23:00"),  # older: ignored
                client("C5", "not a phone", "2025-02-03 09:00", email="c5@example.ru"),
                {**client("C6", "", "2025-02-03 09:00"), "registered_at": "03/02/2025"},
            ],
        ),
        (
            "sales",
            "2025-02-03.csv",
            [
                sale("S2", "C2", "-20.00", "2025-02-03 12:00"),  # a refund-corrected amount
                sale("S6", "C5", "60.00", "2025-02-03 12:00"),
                {**sale("S7", "C7", "70.00", "2025-02-03 12:00", deal_id="D7"), "is_deleted": "1"},
            ],
        ),
        (
            "promo_activations",
            "2025-02-03.csv",
            [activation("PA3", "C5", "2025-02-03 08:00", "2025-02-03 09:00")],
        ),
        (
            "sms_messages",
            "2025-02-03.csv",
            [sms("M2", "C5", "2025-02-03 10:00", "2025-02-03 10:00")],
        ),
        (
            "activities",
            "2025-02-03.csv",
            # a late-arriving activity: it attributes C4's day-2 sales, which did not change
            [activity("AC2", "C4", "2025-01-31 10:00", "2025-02-03 09:00")],
        ),
    ],
    [  # day 4: a re-sent copy of day 2's clients under a name that sorts first, a rejected
        # file (both make the build full), and an ordinary new row
        (
            "sales",
            "2025-02-04.csv",
            [sale("S9", "C1", "90.00", "2025-02-04 12:00")],
        ),
    ],
]
# day 1 has nothing to build on; day 4's re-sent copy changes which file's rows load
EXPECTED_MODES = ["full", "incremental", "incremental", "full"]


def land_batch(landing: Path, batch: list[tuple[str, str, list[dict]]]) -> None:
    for entity, name, rows in batch:
        write_landing(landing, {entity: rows}, name)


def land_extras(landing: Path, day: int) -> None:
    """Files that are not plain batches: a copy sorting first, a rejected file."""
    if day == 4:
        original = landing / "clients" / "2025-02-02.csv"
        (landing / "clients" / "2025-02-01_resend.csv").write_bytes(original.read_bytes())
        (landing / "sales" / "2025-02-03_manual.csv").write_text(
            "sale_id,location_id,status,created_at,updated_at\nX,L1,posted,2025-02-03,2025-02-03\n",
            encoding="utf-8",
        )


def tables(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            n
            for (n,) in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema in ('marts', 'audit') order by 1"
            ).fetchall()
        ]
        result = {}
        for name in names:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where "
                    "table_schema || '.' || table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
                if c not in ("ingested_at", "file_path")
            ]  # when and where it ran
            select = ", ".join(f'"{c}"' for c in columns)
            result[name] = sorted(con.execute(f"select {select} from {name}").fetchall(), key=repr)
        return result


@pytest.fixture(scope="module")
def incremental_and_full(tmp_path_factory):
    """Per day: the instance refreshed batch by batch, and a fresh instance refreshed once
    with every file landed so far (always a full build)."""
    root = tmp_path_factory.mktemp("incremental")

    def instance(name: str) -> Settings:
        return Settings(
            landing=root / name / "landing",
            warehouse=root / name / "wh.duckdb",
            reports_dir=root / name / "reports",
        )

    step = instance("stepwise")
    days = []
    for day, batch in enumerate(BATCHES, 1):
        land_batch(step.landing, batch)
        land_extras(step.landing, day)
        plan = refresh(step)
        once = instance(f"full-{day}")
        for earlier in range(1, day + 1):
            land_batch(once.landing, BATCHES[earlier - 1])
            land_extras(once.landing, earlier)
        assert refresh(once).full_refresh
        days.append((plan, tables(step.warehouse), tables(once.warehouse)))
    return days, once.warehouse, step


def test_every_mart_equals_a_full_refresh_after_every_batch(incremental_and_full):
    days, _, _ = incremental_and_full
    for day, (_, stepwise, full) in enumerate(days, 1):
        assert set(stepwise) == set(full)
        for name in full:
            assert stepwise[name] == full[name], f"day {day}: {name}"


def test_batches_of_only_new_files_build_incrementally(incremental_and_full):
    days, _, _ = incremental_and_full
    modes = ["full" if plan.full_refresh else "incremental" for plan, _, _ in days]
    assert modes == EXPECTED_MODES


def test_the_batches_exercised_corrections_deletes_and_flips(incremental_and_full):
    _, warehouse, _ = incremental_and_full
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sales = dict(
            con.execute("select sale_id, amount from marts.fct_sales order by sale_id").fetchall()
        )
        chain = dict(con.execute("select sale_id, chain_client_id from marts.fct_sales").fetchall())
        records = dict(
            con.execute(
                "select client_id, chain_client_id from marts.dim_client_records"
            ).fetchall()
        )
        ledger = dict(
            con.execute(
                "select entity || '/' || file_name, status from audit.audit_ingest_ledger"
            ).fetchall()
        )
        quarantined = con.execute(
            "select file_name, row_number, column_name from audit.audit_quarantined_rows"
        ).fetchall()
        deals = dict(con.execute("select deal_key, realizations from marts.fct_deals").fetchall())
        (v77,) = con.execute(
            "select chain_client_id from marts.fct_visits where visit_id = 'V77'"
        ).fetchone()
        numbers = dict(
            con.execute(
                "select activation_id, activation_number from marts.fct_promo_activations"
            ).fetchall()
        )
        (m1,) = con.execute(
            "select sent_at_utc from marts.fct_sms_messages where message_id = 'M1'"
        ).fetchone()
        attributed = con.execute(
            "select activity_id, sale_id from marts.fct_attributed_sales order by 1, 2"
        ).fetchall()
    # S1 was cancelled on day 2; S2's day-3 version is the refund-corrected -20.00; S7 was
    # deleted on day 3; S8 moved from deal D7 to D1 on day 2
    assert sales == {
        "S10": Decimal("10.00"),
        "S2": Decimal("-20.00"),
        "S3": Decimal("300.50"),
        "S4": Decimal("400.00"),
        "S5": Decimal("50.00"),
        "S6": Decimal("60.00"),
        "S8": Decimal("80.00"),
        "S9": Decimal("90.00"),
    }
    assert deals["D7"] == 0 and deals["D1"] == 3
    # A7 deleted: V77's first appointment is C2's A8, and C2 is C1's chain client
    assert v77 == md5(b"phone:79001111111").hexdigest()
    # C2 joined C1: PA2 (09:30) is the chain client's second activation of P1 after PA1
    assert numbers == {"PA1": 1, "PA2": 2, "PA3": 1}
    # C4's record (Asia/Yekaterinburg, +05:00) arrived after M1: 10:00 local is 05:00 UTC
    assert str(m1) == "2025-02-01 05:00:00"
    # AC1 (C2, 30 Jan) attributes C2's S2 and, through the merge, C1's S10 and S9; AC2 (C4,
    # landed on day 3) attributes C4's sales of day 2
    assert attributed == [
        ("AC1", "S10"),
        ("AC1", "S2"),
        ("AC1", "S9"),
        ("AC2", "S4"),
        ("AC2", "S5"),
        ("AC2", "S8"),
    ]
    # C3's record was deleted on day 2: its sale keeps the key client:C3
    assert chain["S3"] == md5(b"client:C3").hexdigest()
    # day 2 moved C2 onto C1's phone; day 3's older version of C2 does not undo it
    assert records["C2"] == records["C1"] == md5(b"phone:79001111111").hexdigest()
    assert "C3" not in records and "C6" not in records
    # the re-sent copy sorts before day 2's file, so it is the loaded one
    assert ledger["clients/2025-02-01_resend.csv"] == "loaded"
    assert ledger["clients/2025-02-02.csv"] == "duplicate"
    assert ledger["sales/2025-02-03_manual.csv"] == "rejected"
    assert quarantined == [("2025-02-03.csv", 3, "registered_at")]


def test_working_tables_store_text_uncompressed_and_marts_keep_compression(incremental_and_full):
    # tables created whole by a full build and appended to by incremental ones; text columns
    # of few distinct values (compressed_working_text_columns) keep DuckDB's compression
    _, _, step = incremental_and_full
    with duckdb.connect(str(step.work_db), read_only=True) as con:
        ddl = dict(
            con.execute(
                "select schema_name || '.' || table_name, sql from duckdb_tables() "
                "where schema_name in ('staging', 'intermediate')"
            ).fetchall()
        )
    assert {
        "staging.base_crm__sales",
        "staging.stg_crm__sales",
        "intermediate.int_clients_keyed",
    } <= set(ddl)
    compressed = set(
        yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"][
            "compressed_working_text_columns"
        ]
    )
    kept, uncompressed = set(), set()
    for table, sql in ddl.items():
        body = sql[sql.index("(") + 1 : sql.rindex(")")]
        for definition in body.split(", "):  # DECIMAL(38,12) has no space after its comma
            name, _, rest = definition.partition(" ")
            name = name.strip('"')  # a keyword (position) is quoted
            if rest.startswith("VARCHAR"):
                assert (rest == "VARCHAR") == (name in compressed), (table, definition)
                (kept if rest == "VARCHAR" else uncompressed).add(name)
    assert {"_source_file", "_dbt_invocation_id", "timezone", "location_id", "status"} <= kept
    assert {"sale_id", "client_id", "posted_at_raw", "phone"} <= uncompressed
    with duckdb.connect(str(step.warehouse), read_only=True) as con:
        marts = [sql for (sql,) in con.execute("select sql from duckdb_tables()").fetchall()]
    assert marts and not any("COMPRESSION" in sql for sql in marts)
