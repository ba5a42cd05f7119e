"""Every contract violation of raw-extracts.md, end to end in ONE landing.

One module-scoped landing holds good files for several entities plus one file per violation;
one real refresh (ingest, `dbt build`, publish) runs over it. Each test then checks, for its
case: the message people see (ledger or quarantine reason naming file/row/column/value), the
ledger/quarantine record, the exact row accounting of that file, and that the good rows of
other files still reach the marts. Putting every case in one landing is the point: a bad file
must never disturb its neighbours.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from crm_analytics.config import Settings
from crm_analytics.contract import ENTITY_NAMES, entities
from crm_analytics.ingest import IngestResult, ingest
from tests.pipeline import refresh

pytestmark = pytest.mark.slow

UPDATED = "2025-01-01 00:00"


def md5(key: str) -> str:
    return hashlib.md5(key.encode()).hexdigest()


def csv_text(header: list[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({"updated_at": UPDATED, **row} if "updated_at" in header else row)
    return buffer.getvalue()


def columns(entity: str, *, without: tuple[str, ...] = ()) -> list[str]:
    return [c for c in entities()[entity].column_names if c not in without]


def land(landing: Path, relpath: str, data: bytes | str) -> Path:
    path = landing / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def land_csv(
    landing: Path, entity: str, name: str, rows: list[dict[str, Any]], *, without=()
) -> None:
    # a file without a column carries no value for it either
    rows = [{k: v for k, v in row.items() if k not in without} for row in rows]
    land(landing, f"{entity}/{name}", csv_text(columns(entity, without=without), rows))


# --- the landing -------------------------------------------------------------------------------

LOCATIONS = [
    {"location_id": "L1", "name": "Москва", "timezone": "Europe/Moscow"},
    {"location_id": "L2", "name": "Екатеринбург", "timezone": "Asia/Yekaterinburg"},
]
CLIENTS = [
    {
        "client_id": "C1",
        "location_id": "L1",
        "name": "Анна",
        "phone": "+7 (912) 345-67-89",
        "registered_at": "2025-01-10 10:00",
    },
    {
        "client_id": "C2",
        "location_id": "L2",
        "name": "Борис",
        "email": "boris@mail.ru",
        "registered_at": "2025-01-11 10:00",
    },
]
# A client record that would load if the file were readable: it must never appear.
REJECTED_CLIENT = {
    "client_id": "C-ENC",
    "location_id": "L1",
    "name": "Вера",
    "registered_at": "2025-01-12 10:00",
}
# The same for files that are ignored (wrong place or extension).
IGNORED_CLIENT = {
    "client_id": "C-IGN",
    "location_id": "L1",
    "name": "Игнат",
    "registered_at": "2025-01-12 10:00",
}
SPECIALISTS = [{"specialist_id": "SP1", "location_id": "L1", "name": "Ирина"}]


def appointment(appointment_id: str, **values: str) -> dict[str, str]:
    return {
        "appointment_id": appointment_id,
        "visit_id": "V-" + appointment_id,
        "location_id": "L1",
        "client_id": "C1",
        "starts_at": "2025-03-01 10:00",
        "created_at": "2025-02-20 10:00",
        "status": "booked",
        **values,
    }


def sale(sale_id: str, **values: str) -> dict[str, str]:
    return {
        "sale_id": sale_id,
        "location_id": "L1",
        "client_id": "C1",
        "kind": "service",
        "amount": "100",
        "status": "posted",
        "posted_at": "2025-03-01 12:00",
        "created_at": "2025-03-01 11:00",
        **values,
    }


def deal(deal_id: str, **values: str) -> dict[str, str]:
    return {
        "deal_id": deal_id,
        "location_id": "L1",
        "client_id": "C1",
        "opened_at": "2025-03-01 09:00",
        "channel": "phone",
        "status": "open",
        **values,
    }


def sms(message_id: str, **values: str) -> dict[str, str]:
    return {
        "message_id": message_id,
        "client_id": "C1",
        "sent_at": "2025-03-02 10:00",
        "status": "delivered",
        **values,
    }


def activity_line(activity_id: str, activity_type: str = "Message") -> str:
    return json.dumps(
        {
            "activity_id": activity_id,
            "client_id": "C1",
            "location_id": "L1",
            "activity_type": activity_type,
            "occurred_at": "2025-03-01 09:00",
            "updated_at": UPDATED,
        },
        ensure_ascii=False,
    )


def build_landing(landing: Path) -> None:
    # Good files: every other file of the landing must still load around the bad ones.
    land_csv(landing, "locations", "locations.csv", LOCATIONS)
    land_csv(landing, "clients", "clients.csv", CLIENTS)
    land_csv(landing, "specialists", "a_staff.csv", SPECIALISTS)
    # The same bytes under a second name: a duplicate of a_staff.csv, not a second load.
    land(
        landing, "specialists/b_staff_copy.csv", (landing / "specialists/a_staff.csv").read_bytes()
    )
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["promotion_id", "location_id", "name", "promotion_type", "starts_on"])
    sheet.append(["P1", "L1", "Весна", "fixed_discount", date(2025, 3, 1)])
    sheet["F1"] = "updated_at"
    sheet["F2"] = datetime(2025, 1, 1)
    (landing / "promotions").mkdir(parents=True)
    book.save(landing / "promotions/good.xlsx")
    land_csv(
        landing,
        "promo_codes",
        "good.csv",
        [
            {
                "promo_code_id": "PC1",
                "code": "SPRING",
                "location_id": "L1",
                "bonus_per_activation": "500",
                "starts_at": "2025-03-01 00:00",
            }
        ],
    )
    land_csv(
        landing,
        "promo_activations",
        "good.csv",
        [
            {
                "activation_id": "PA1",
                "promo_code_id": "PC1",
                "client_id": "C1",
                "activated_at": "2025-03-05 10:00",
                "bonus_amount": "500",
            }
        ],
    )
    land_csv(landing, "sales", "good.csv", [sale("S1", amount="1 500,50")])
    land_csv(landing, "sms_messages", "good.csv", [sms("M1")])
    land(landing, "activities/good.jsonl", activity_line("AC1", "AI activity") + "\n")

    # --- whole-file rejections ---
    land_csv(landing, "sales", "missing_column.csv", [sale("S-MISS")], without=("amount",))
    deals_header = columns("deals")
    ragged = csv_text(deals_header, [deal("D-RAG1")]) + ",".join(["D-RAG2", *"x" * 8]) + "\n"
    land(landing, "deals/ragged.csv", ragged)
    land(landing, "deals/ragged_short.csv", csv_text(deals_header, []) + "D-RAG3,L1,C1\n")
    land(landing, "specialists/not_a_zip.xlsx", b"this is plain text, not a zip archive\n")
    land(landing, "promotions/empty.csv", b"")
    land(landing, "promo_activations/empty.xlsx", b"")
    header_only = csv_text(columns("promo_codes"), [])
    land(landing, "promo_codes/header_only.csv", header_only)
    # a header without a final newline is still a header
    land(landing, "promo_codes/header_only_no_newline.csv", header_only.rstrip("\n"))
    header_book = openpyxl.Workbook()
    header_book.active.append(columns("promo_codes"))
    header_book.save(landing / "promo_codes/header_only.xlsx")
    client_csv = csv_text(columns("clients"), [REJECTED_CLIENT])
    land(landing, "clients/cp1251.csv", client_csv.encode("cp1251"))
    land(landing, "clients/utf16.csv", client_csv.encode("utf-16"))
    land(landing, "activities/cp1251.jsonl", activity_line("AC-ENC", "Звонок").encode("cp1251"))
    # jsonl: a column is present when any line has the key; here no line has activity_type
    no_type = json.loads(activity_line("AC-MK"))
    del no_type["activity_type"]
    land(landing, "activities/missing_key.jsonl", json.dumps(no_type) + "\n")
    # ...and here one line has it: the file loads, the line without it is quarantined
    partial = json.loads(activity_line("AC-PK2"))
    del partial["activity_type"]
    land(
        landing,
        "activities/partial_keys.jsonl",
        activity_line("AC-PK1") + "\n\n" + json.dumps(partial) + "\n",  # blank lines skipped
    )
    land(
        landing,
        "activities/not_json.jsonl",
        activity_line("AC-NJ1") + "\n" + '{"activity_id": "AC-NJ2",\n',
    )
    land(
        landing,
        "activities/not_object.jsonl",
        activity_line("AC-NO1") + "\n" + '["AC-NO2", "C1"]\n',
    )

    # --- row-level issues ---
    land_csv(
        landing,
        "appointments",
        "a1_bad_timestamp.csv",
        [appointment("AP1"), appointment("AP2", starts_at="2025-03-01")],
    )
    land_csv(
        landing,
        "appointments",
        "a2_bad_boolean.csv",
        [appointment("AP3", is_online="maybe"), appointment("AP4", is_online="ДА")],
    )
    land_csv(
        landing,
        "appointments",
        "a3_bad_status.csv",
        [appointment("AP5", status="visited"), appointment("AP6", status=" ARRIVED ")],
    )
    land_csv(
        landing,
        "sales",
        "bad_money.csv",
        [sale("S-BM1", amount="+100"), sale("S-BM2", amount="100,5")],
    )
    land_csv(landing, "sales", "bad_kind.csv", [sale("S-BK", kind="gift")])
    land_csv(
        landing,
        "sales",
        "bad_status.csv",
        [sale("S-BS1", status="paid"), sale("S-BS2", status=" Posted ")],
    )
    land_csv(
        landing,
        "sales",
        "no_posted_at.csv",
        [sale("S-NP1", status="posted"), sale("S-NP2", status="draft")],
        without=("posted_at",),
    )
    # the column is there but the value is empty or invalid; the posted rule ignores case
    land_csv(
        landing,
        "sales",
        "posted_at_invalid.csv",
        [
            sale("S-PI1", status="POSTED", posted_at=""),
            sale("S-PI2", status="posted", posted_at="yesterday"),
            sale("S-PI3", status="draft", posted_at="yesterday"),
            sale("S-PI4", status="cancelled", posted_at=""),
        ],
    )
    land_csv(landing, "sales", "unknown_location.csv", [sale("S-UL", location_id="L404")])
    land_csv(landing, "sales", "unknown_client.csv", [sale("S-UC", client_id="GHOST-1")])
    land_csv(
        landing,
        "sms_messages",
        "bad_status.csv",
        [sms("M-BS1", status="read"), sms("M-BS2", status="FAILED")],
    )
    land_csv(landing, "deals", "bad_status.csv", [deal("D-BS", status="pending")])
    # Versions with equal updated_at. D1: 12:00 Moscow in d1 and 09:00Z in d2 are the same
    # instant, so the later file wins. D2: two rows of one file, the later row wins.
    land_csv(
        landing,
        "deals",
        "d1_versions.csv",
        [
            deal("D1", channel="first file", updated_at="2025-02-01 12:00"),
            deal("D2", channel="first row"),
            deal("D2", channel="second row"),
        ],
    )
    land_csv(
        landing,
        "deals",
        "d2_versions.csv",
        [deal("D1", channel="second file", status="won", updated_at="2025-02-01T09:00:00Z")],
    )

    # --- ignored paths: valid client data in the wrong place or with another extension ---
    ignored = csv_text(columns("clients"), [IGNORED_CLIENT])
    for relpath in IGNORED:
        land(landing, relpath, ignored)


# landed path -> (the path the warning names, why): a folder outside the layout is reported
# once as a folder, not file by file
IGNORED = {
    "top_level.csv": ("top_level.csv", "file at the top of the landing folder"),
    "customers/extract.csv": ("customers", "folder is not an entity name"),
    "clients/archive/old.csv": ("clients/archive", "sub-folder of an entity folder"),
    "clients/extract.txt": ("clients/extract.txt", "not a .csv, .xlsx or .jsonl file"),
    # the contract names lower-case extensions: `.CSV` is another extension
    "clients/EXTRACT.CSV": ("clients/EXTRACT.CSV", "not a .csv, .xlsx or .jsonl file"),
}


@dataclass(frozen=True)
class Run:
    settings: Settings
    ingest: IngestResult

    def query(self, sql: str, *params: Any) -> list[tuple]:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()

    def work(self, sql: str, *params: Any) -> list[tuple]:
        with duckdb.connect(str(self.settings.work_db), read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()

    def ledger(self, entity: str, file_name: str) -> tuple:
        """(status, reason, rows_read, rows_loaded, rows_quarantined) of one landed file."""
        (row,) = self.query(
            "select status, reason, rows_read, rows_loaded, rows_quarantined "
            "from audit.audit_ingest_ledger where entity = ? and file_name = ?",
            entity,
            file_name,
        )
        return row

    def issues(self, table: str, entity: str, file_name: str) -> list[tuple]:
        """(row_number, column_name, value, reason) of a file in an audit issues table."""
        return self.query(
            f"select row_number, column_name, value, reason from audit.{table} "
            "where entity = ? and file_name = ? order by row_number, column_name",
            entity,
            file_name,
        )

    def quarantined(self, entity: str, file_name: str) -> list[tuple]:
        return self.issues("audit_quarantined_rows", entity, file_name)

    def warnings(self, entity: str, file_name: str) -> list[tuple]:
        return self.issues("audit_value_warnings", entity, file_name)

    def ids(self, table: str, key: str) -> set[str]:
        return {r[0] for r in self.query(f"select {key} from marts.{table}")}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    root = tmp_path_factory.mktemp("bad_inputs")
    settings = Settings(
        landing=root / "landing", warehouse=root / "wh.duckdb", reports_dir=root / "reports"
    )
    build_landing(settings.landing)
    # refresh() drops ingest()'s result, which is the only place ignored paths are reported;
    # ingest first to keep it. refresh's own ingest then finds every file already in the
    # ledger with the same content and changes nothing.
    result = ingest(settings.landing, settings.state_dir)
    refresh(settings)
    return Run(settings, result)


def good_rows_loaded(run: Run) -> None:
    """(d) The good files of other entities all reached the marts."""
    assert {"L1", "L2"} <= run.ids("dim_locations", "location_id")
    assert {"C1", "C2"} <= run.ids("dim_client_records", "client_id")
    assert run.ids("dim_specialists", "specialist_id") == {"SP1"}
    assert run.ids("dim_promotions", "promotion_id") == {"P1"}
    assert run.ids("dim_promo_codes", "promo_code_id") == {"PC1"}
    assert run.ids("fct_promo_activations", "activation_id") == {"PA1"}
    assert "S1" in run.ids("fct_sales", "sale_id")
    assert "M1" in run.ids("fct_sms_messages", "message_id")
    assert "AP1" in run.ids("fct_appointments", "appointment_id")
    activities = run.work("select activity_id, activity_type from staging.stg_crm__activities")
    assert sorted(activities) == [("AC-PK1", "message"), ("AC1", "ai_activity")]


# --- whole files rejected ----------------------------------------------------------------------


def test_missing_required_column_rejects_the_file(run):
    assert run.ledger("sales", "missing_column.csv") == (
        "rejected",
        "missing required column: amount",
        0,
        0,
        0,
    )
    assert "S-MISS" not in run.work("select list(sale_id) from staging.base_crm__sales")[0][0]
    assert "S-MISS" not in run.ids("fct_sales", "sale_id")
    # jsonl has no header: a column is missing when no line has the key
    assert run.ledger("activities", "missing_key.jsonl") == (
        "rejected",
        "missing required column: activity_type",
        0,
        0,
        0,
    )
    good_rows_loaded(run)


def test_jsonl_key_missing_from_some_lines_quarantines_only_those_rows(run):
    # the key is in line 1, so the column is present; line 3 (record 2) lacks the value
    assert run.ledger("activities", "partial_keys.jsonl") == ("loaded", None, 2, 1, 1)
    assert run.quarantined("activities", "partial_keys.jsonl") == [
        (2, "activity_type", None, "missing required value")
    ]
    good_rows_loaded(run)  # AC-PK1 is among the staged activities


def test_csv_with_a_ragged_row_is_unparseable_and_rejected_whole(run):
    header_fields = len(columns("deals"))
    assert run.ledger("deals", "ragged.csv") == (
        "rejected",
        f"row 2 has {header_fields + 1} fields, header has {header_fields}",
        0,
        0,
        0,
    )
    # rejected whole: its good first row is not loaded either, other deal files are
    # a short row is as ragged as a long one
    assert run.ledger("deals", "ragged_short.csv") == (
        "rejected",
        f"row 1 has 3 fields, header has {header_fields}",
        0,
        0,
        0,
    )
    deals = run.ids("fct_deals", "deal_id")
    assert not {"D-RAG1", "D-RAG2", "D-RAG3"} & deals
    assert {"D1", "D2", "D-BS"} <= deals
    good_rows_loaded(run)


def test_xlsx_that_is_not_a_zip_is_rejected(run):
    status, reason, *accounting = run.ledger("specialists", "not_a_zip.xlsx")
    assert status == "rejected"
    assert reason.startswith("cannot open xlsx: ")
    assert accounting == [0, 0, 0]
    good_rows_loaded(run)  # includes the good specialist of a_staff.csv


def test_empty_csv_is_rejected(run):
    assert run.ledger("promotions", "empty.csv") == (
        "rejected",
        "empty file (0 bytes)",
        0,
        0,
        0,
    )
    # the other promotions file (an xlsx with typed cells) loads
    assert run.ledger("promotions", "good.xlsx") == ("loaded", None, 1, 1, 0)
    assert run.query("select promotion_id, starts_on from marts.dim_promotions") == [
        ("P1", date(2025, 3, 1))
    ]
    good_rows_loaded(run)


def test_empty_xlsx_is_rejected(run):
    assert run.ledger("promo_activations", "empty.xlsx") == (
        "rejected",
        "cannot open xlsx: empty file (0 bytes)",
        0,
        0,
        0,
    )
    good_rows_loaded(run)  # includes PA1 from promo_activations/good.csv


@pytest.mark.parametrize(
    "file_name", ["header_only.csv", "header_only_no_newline.csv", "header_only.xlsx"]
)
def test_header_only_file_loads_nothing_and_is_not_an_error(run, file_name):
    assert run.ledger("promo_codes", file_name) == ("loaded", None, 0, 0, 0)
    assert not [r for r in run.ingest.rejected if r.file_name == file_name]
    good_rows_loaded(run)


@pytest.mark.parametrize(
    ("entity", "file_name", "line"),
    [
        # the header is ASCII; the Cyrillic name on line 2 is not UTF-8
        ("clients", "cp1251.csv", 2),
        # the UTF-16 byte order mark is already invalid UTF-8
        ("clients", "utf16.csv", 1),
        ("activities", "cp1251.jsonl", 1),
    ],
)
def test_wrong_encoding_is_rejected(run, entity, file_name, line):
    assert run.ledger(entity, file_name) == (
        "rejected",
        f"not valid UTF-8 (line {line})",
        0,
        0,
        0,
    )
    assert "C-ENC" not in run.ids("dim_client_records", "client_id")
    assert "AC-ENC" not in {r[0] for r in run.work("select activity_id from raw.activities")}
    good_rows_loaded(run)


def test_jsonl_line_that_is_not_json_rejects_the_file(run):
    status, reason, *accounting = run.ledger("activities", "not_json.jsonl")
    assert status == "rejected"
    assert reason.startswith("line 2 is not a JSON object (invalid JSON: ")
    assert accounting == [0, 0, 0]
    assert not {"AC-NJ1", "AC-NJ2", "AC-NO1", "AC-NO2"} & {
        r[0] for r in run.work("select activity_id from staging.base_crm__activities")
    }
    good_rows_loaded(run)


def test_jsonl_line_that_is_json_but_not_an_object_rejects_the_file(run):
    assert run.ledger("activities", "not_object.jsonl") == (
        "rejected",
        "line 2 is not a JSON object (got an array)",
        0,
        0,
        0,
    )
    assert not {"AC-NJ1", "AC-NJ2", "AC-NO1", "AC-NO2"} & {
        r[0] for r in run.work("select activity_id from staging.base_crm__activities")
    }
    good_rows_loaded(run)


def test_rejections_are_reported_by_ingest(run):
    # the same reasons reach the person running ingest, as warnings naming entity/file
    rejected = {(r.entity, r.file_name) for r in run.ingest.rejected}
    assert rejected == {
        ("sales", "missing_column.csv"),
        ("deals", "ragged.csv"),
        ("deals", "ragged_short.csv"),
        ("activities", "cp1251.jsonl"),
        ("activities", "missing_key.jsonl"),
        ("specialists", "not_a_zip.xlsx"),
        ("promotions", "empty.csv"),
        ("promo_activations", "empty.xlsx"),
        ("clients", "cp1251.csv"),
        ("clients", "utf16.csv"),
        ("activities", "not_json.jsonl"),
        ("activities", "not_object.jsonl"),
    }
    assert "rejected sales/missing_column.csv: missing required column: amount" in (
        run.ingest.warnings
    )
    # rejected files are left in place for people to fix and re-land
    for entity, name in rejected:
        assert (run.settings.landing / entity / name).is_file()


def test_file_landed_twice_is_loaded_once(run):
    assert run.ledger("specialists", "a_staff.csv") == ("loaded", None, 1, 1, 0)
    assert run.ledger("specialists", "b_staff_copy.csv") == (
        "duplicate",
        "same content as a_staff.csv",
        0,
        0,
        0,
    )
    assert run.query("select specialist_id, specialist_name from marts.dim_specialists") == [
        ("SP1", "Ирина")
    ]
    # its rows are read once: one raw row, attributed to the loaded name
    assert run.work("select _source_file from staging.base_crm__specialists") == [("a_staff.csv",)]
    good_rows_loaded(run)


@pytest.mark.parametrize("relpath", sorted(IGNORED))
def test_files_outside_the_layout_are_ignored_with_a_warning(run, relpath):
    warned, reason = IGNORED[relpath]
    path = run.settings.landing.absolute() / warned
    assert f"ignored {path}: {reason}" in run.ingest.warnings
    assert (path, reason) in {(i.path, i.reason) for i in run.ingest.ignored}
    # never an error, never in the ledger
    name = Path(relpath).name
    assert run.query("select * from audit.audit_ingest_ledger where file_name = ?", name) == []
    assert all(r.file_name != name for r in run.ingest.ledger())
    assert "C-IGN" not in run.ids("dim_client_records", "client_id")
    good_rows_loaded(run)


# --- rows quarantined or loaded with warnings -------------------------------------------------


def test_bad_required_timestamp_quarantines_the_row(run):
    assert run.quarantined("appointments", "a1_bad_timestamp.csv") == [
        (2, "starts_at", "2025-03-01", "unparseable timestamp")  # a date alone
    ]
    assert run.ledger("appointments", "a1_bad_timestamp.csv") == ("loaded", None, 2, 1, 1)
    appointments = run.ids("fct_appointments", "appointment_id")
    assert "AP1" in appointments and "AP2" not in appointments
    good_rows_loaded(run)


def test_bad_required_money_quarantines_the_row(run):
    assert run.quarantined("sales", "bad_money.csv") == [
        (1, "amount", "+100", "unparseable money")  # a leading + is invalid
    ]
    assert run.ledger("sales", "bad_money.csv") == ("loaded", None, 2, 1, 1)
    amounts = dict(run.query("select sale_id, amount from marts.fct_sales"))
    assert "S-BM1" not in amounts
    assert amounts["S-BM2"] == Decimal("100.5")
    assert amounts["S1"] == Decimal("1500.50")  # '1 500,50' in the good file
    good_rows_loaded(run)


def test_bad_optional_boolean_loads_as_null_with_a_warning(run):
    assert run.warnings("appointments", "a2_bad_boolean.csv") == [
        (1, "is_online", "maybe", "unparseable boolean; loaded as null")
    ]
    assert run.quarantined("appointments", "a2_bad_boolean.csv") == []
    assert run.ledger("appointments", "a2_bad_boolean.csv") == ("loaded", None, 2, 2, 0)
    online = dict(
        run.query(
            "select appointment_id, is_online from marts.fct_appointments "
            "where appointment_id in ('AP3', 'AP4')"
        )
    )
    # null takes the column's default (false); 'ДА' is yes in any case
    assert online == {"AP3": False, "AP4": True}
    good_rows_loaded(run)


REQUIRED_ENUMS = {
    # entity: (file, bad value, its row's id, a row whose status needs trim + lower, reason)
    "appointments": (
        "a3_bad_status.csv",
        "visited",
        "AP5",
        ("AP6", "arrived"),
        "booked, arrived, no_show, cancelled",
    ),
    "sales": ("bad_status.csv", "paid", "S-BS1", ("S-BS2", "posted"), "draft, posted, cancelled"),
    "sms_messages": (
        "bad_status.csv",
        "read",
        "M-BS1",
        ("M-BS2", "failed"),
        "sent, delivered, failed",
    ),
}


@pytest.mark.parametrize("entity", sorted(REQUIRED_ENUMS))
def test_required_enum_outside_its_list_quarantines_the_row(run, entity):
    file_name, bad, bad_id, (good_id, normalised), values = REQUIRED_ENUMS[entity]
    assert run.quarantined(entity, file_name) == [(1, "status", bad, f"not one of {values}")]
    assert run.ledger(entity, file_name) == ("loaded", None, 2, 1, 1)
    key = entities()[entity].key
    # staging, because fct_sales keeps only posted sales and has no status column
    statuses = dict(run.work(f"select {key}, status from staging.stg_crm__{entity}"))
    assert bad_id not in statuses
    assert statuses[good_id] == normalised
    good_rows_loaded(run)


@pytest.mark.parametrize(
    ("entity", "file_name", "column", "bad", "reason", "table", "key", "row_id"),
    [
        (
            "deals",
            "bad_status.csv",
            "status",
            "pending",
            "open, won, lost",
            "fct_deals",
            "deal_id",
            "D-BS",
        ),
        (
            "sales",
            "bad_kind.csv",
            "kind",
            "gift",
            "service, product, other",
            "fct_sales",
            "sale_id",
            "S-BK",
        ),
    ],
    ids=["deals.status", "sales.kind"],
)
def test_optional_enum_outside_its_list_loads_as_null_with_a_warning(
    run, entity, file_name, column, bad, reason, table, key, row_id
):
    assert run.warnings(entity, file_name) == [
        (1, column, bad, f"not one of {reason}; loaded as null")
    ]
    assert run.quarantined(entity, file_name) == []
    assert run.ledger(entity, file_name) == ("loaded", None, 1, 1, 0)
    assert run.query(f"select {column} from marts.{table} where {key} = ?", row_id) == [(None,)]
    good_rows_loaded(run)


def test_posted_sale_without_posted_at_is_quarantined_a_draft_is_not(run):
    # the file has no posted_at column at all, which the contract allows
    assert run.quarantined("sales", "no_posted_at.csv") == [
        (1, "posted_at", None, "missing value required when status is posted")
    ]
    assert run.warnings("sales", "no_posted_at.csv") == []
    assert run.ledger("sales", "no_posted_at.csv") == ("loaded", None, 2, 1, 1)
    staged = dict(run.work("select sale_id, status from staging.stg_crm__sales"))
    assert "S-NP1" not in staged
    assert staged["S-NP2"] == "draft"
    # drafts do not count as realizations, so neither reaches fct_sales
    assert not {"S-NP1", "S-NP2"} & run.ids("fct_sales", "sale_id")
    good_rows_loaded(run)


def test_posted_sale_with_an_empty_or_invalid_posted_at_is_quarantined(run):
    assert run.quarantined("sales", "posted_at_invalid.csv") == [
        (1, "posted_at", None, "missing value required when status is posted"),
        (2, "posted_at", "yesterday", "unparseable timestamp"),
    ]
    # for a draft posted_at is optional: an invalid one is a warning, the row loads
    assert run.warnings("sales", "posted_at_invalid.csv") == [
        (3, "posted_at", "yesterday", "unparseable timestamp; loaded as null")
    ]
    assert run.ledger("sales", "posted_at_invalid.csv") == ("loaded", None, 4, 2, 2)
    staged = dict(run.work("select sale_id, posted_at from staging.stg_crm__sales"))
    assert not {"S-PI1", "S-PI2"} & set(staged)
    assert staged["S-PI3"] is None and staged["S-PI4"] is None
    good_rows_loaded(run)


def test_duplicate_keys_with_equal_updated_at_later_file_then_later_row_wins(run):
    channels = {
        r[0]: r[1:]
        for r in run.query(
            "select deal_id, channel, status from marts.fct_deals where deal_id in ('D1', 'D2')"
        )
    }
    # D1: 12:00 Moscow (d1_versions.csv) and 09:00Z (d2_versions.csv) are one instant
    assert channels["D1"] == ("second file", "won")
    # D2: two rows of d1_versions.csv with the same updated_at
    assert channels["D2"] == ("second row", "open")
    assert run.ledger("deals", "d1_versions.csv") == ("loaded", None, 3, 3, 0)
    assert run.ledger("deals", "d2_versions.csv") == ("loaded", None, 1, 1, 0)
    good_rows_loaded(run)


def test_unknown_location_uses_the_default_time_zone_and_loads(run):
    assert run.query(
        "select location_id, posted_at, posted_at_utc, created_at_utc from marts.fct_sales "
        "where sale_id = 'S-UL'"
    ) == [
        # Europe/Moscow is UTC+3
        ("L404", datetime(2025, 3, 1, 12, 0), datetime(2025, 3, 1, 9, 0), datetime(2025, 3, 1, 8))
    ]
    assert run.ledger("sales", "unknown_location.csv") == ("loaded", None, 1, 1, 0)
    assert run.quarantined("sales", "unknown_location.csv") == []
    good_rows_loaded(run)


def test_unknown_client_keeps_a_record_key_and_is_not_a_dim_client(run):
    assert run.query("select chain_client_id from marts.fct_sales where sale_id = 'S-UC'") == [
        (md5("client:GHOST-1"),)
    ]
    assert run.ledger("sales", "unknown_client.csv") == ("loaded", None, 1, 1, 0)
    dim = run.query("select chain_client_id, identity_key from marts.dim_clients")
    assert md5("client:GHOST-1") not in {r[0] for r in dim}
    assert {r[1] for r in dim} == {"phone:79123456789", "email:boris@mail.ru"}
    good_rows_loaded(run)


# --- the whole landing ------------------------------------------------------------------------


def test_row_accounting_over_the_whole_landing(run):
    ledger = run.query(
        "select entity, file_name, status, rows_read, rows_loaded, rows_quarantined "
        "from audit.audit_ingest_ledger"
    )
    loaded = [r for r in ledger if r[2] == "loaded"]
    for entity, name, _, read, rows_loaded, quarantined in loaded:
        assert read == rows_loaded + quarantined, (entity, name)
    for entity, name, status, read, rows_loaded, quarantined in ledger:
        if status != "loaded":
            assert (read, rows_loaded, quarantined) == (0, 0, 0), (entity, name)
    valid = sum(
        run.work(
            f"select count(distinct (_source_file, _row_number)) "
            f"from staging.base_crm__{entity} where _is_valid"
        )[0][0]
        for entity in ENTITY_NAMES
    )
    assert sum(r[4] for r in loaded) == valid
    quarantined_rows = run.query(
        "select count(distinct (entity, file_name, row_number)) from audit.audit_quarantined_rows"
    )[0][0]
    assert sum(r[5] for r in loaded) == quarantined_rows == 9
    # every landed file in an entity folder with a known extension has exactly one record
    landed = {
        (p.parent.name, p.name)
        for p in run.settings.landing.glob("*/*")
        if p.parent.name in ENTITY_NAMES and p.suffix in {".csv", ".xlsx", ".jsonl"}
    }
    assert {(r[0], r[1]) for r in ledger} == landed
    assert len(ledger) == len(landed)
