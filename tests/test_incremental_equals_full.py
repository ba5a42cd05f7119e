"""Refreshing batch by batch must give exactly what one refresh of all the files gives,
including late corrections and deletes of rows from earlier batches, a lexically earlier copy
of an ingested file arriving later, and a rejected file."""

from __future__ import annotations

from decimal import Decimal
from hashlib import md5
from pathlib import Path

import duckdb
import pytest

from crm_analytics.config import Settings
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


BATCHES: list[list[tuple[str, str, list[dict]]]] = [
    [  # day 1
        ("locations", "2025-02-01.csv", LOCATIONS),
        (
            "clients",
            "2025-02-01.csv",
            [
                client("C1", "+7 900 111-11-11", "2025-02-01 09:00"),
                client("C2", "+7 900 222-22-22", "2025-02-01 09:00"),
                client("C3", "+7 900 333-33-33", "2025-02-01 09:00"),
            ],
        ),
        (
            "sales",
            "2025-02-01.csv",
            [
                sale("S1", "C1", "100.00", "2025-02-01 12:00"),
                sale("S2", "C2", "200.00", "2025-02-01 12:00"),
                sale("S3", "C3", "300,50", "2025-02-01 12:00"),
            ],
        ),
        (
            "appointments",
            "2025-02-01.csv",
            [
                visit("A1", "C1", "2025-02-01 10:00", "booked", "2025-02-01 09:00"),
            ],
        ),
    ],
    [  # day 2: corrections and deletes of day-1 rows, new rows
        (
            "clients",
            "2025-02-02.csv",
            [
                # C2's phone is corrected to C1's: the two records become one chain client
                client("C2", "89001111111", "2025-02-02 09:00"),
                client("C3", "+7 900 333-33-33", "2025-02-02 09:00", is_deleted="да"),
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
            ],
        ),
        (
            "appointments",
            "2025-02-02.csv",
            [
                visit("A1", "C1", "2025-02-01 10:00", "arrived", "2025-02-02 09:00"),
            ],
        ),
    ],
    [  # day 3: a late correction older than the current version, a re-sent copy of day 2's
        # clients under a name that sorts first, a rejected file, and one bad row
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
            ],
        ),
    ],
]


def land_batch(landing: Path, batch: list[tuple[str, str, list[dict]]]) -> None:
    for entity, name, rows in batch:
        write_landing(landing, {entity: rows}, name)


def land_extras(landing: Path, day: int) -> None:
    """Files that are not plain batches: a copy sorting first, a rejected file."""
    if day == 3:
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
    root = tmp_path_factory.mktemp("incremental")
    step = Settings(
        landing=root / "a" / "landing",
        warehouse=root / "a" / "wh.duckdb",
        reports_dir=root / "a" / "reports",
    )
    once = Settings(
        landing=root / "b" / "landing",
        warehouse=root / "b" / "wh.duckdb",
        reports_dir=root / "b" / "reports",
    )
    for day, batch in enumerate(BATCHES, 1):
        land_batch(step.landing, batch)
        land_extras(step.landing, day)
        refresh(step)
        land_batch(once.landing, batch)
        land_extras(once.landing, day)
    refresh(once)
    return tables(step.warehouse), tables(once.warehouse), once.warehouse


def test_every_mart_equals_a_full_refresh(incremental_and_full):
    stepwise, full, _ = incremental_and_full
    assert set(stepwise) == set(full)
    for name in full:
        assert stepwise[name] == full[name], name


def test_the_batches_exercised_corrections_deletes_and_flips(incremental_and_full):
    _, _, warehouse = incremental_and_full
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
    # S1 was cancelled on day 2; S2's day-3 version is the refund-corrected -20.00
    assert sales == {
        "S2": Decimal("-20.00"),
        "S3": Decimal("300.50"),
        "S4": Decimal("400.00"),
        "S5": Decimal("50.00"),
        "S6": Decimal("60.00"),
    }
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
