"""Security: contact data (phone, e-mail) stays where the spec allows it.

1. A real refresh over a landing full of distinctive, odd and invalid contacts, with rejected
   files and quarantined rows, leaks no phone or e-mail into logs, Dagster events and their
   metadata, error messages or the ingest ledger.
2. Files rendered for the analyst role hold no contact data; manager files that do are 0600.
3. Report parameters carrying injection strings give a correct empty result or a clean
   refusal, and never change the published warehouse.
4. `--out` / `--section` never write outside the named file(s) and leave no temporaries.

The two refreshes (a small hostile landing, the bundled sample) are the expensive part: they
run once per module, side by side, as `crm-analytics refresh` subprocesses.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import re
import stat
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from crm_analytics.config import Settings
from crm_analytics.contract import PROJECT_ROOT
from tests.pipeline import write_landing

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("crm-analytics"))
SAMPLE = PROJECT_ROOT / "seeds" / "sample"
BUNDLED_REPORTS = PROJECT_ROOT / "reports.yaml"

# --------------------------------------------------------------------------------------------
# The hostile landing (part 1)
# --------------------------------------------------------------------------------------------

# Every phone and e-mail written anywhere in the landing, loaded, rejected or quarantined.
# The digits are distinctive (4738…) so that a hit is a leak, not a coincidence with a date,
# an amount or a hash.
LOADED_CLIENTS = [
    # (client_id, name, phone, email)
    ("C1", "Зоя", "8 (916) 473-82-91", "Zoya.Quill+crm@Example.COM"),
    ("C2", "Ян", "+7 916 473 82 92", "  spaced.out@Example.org  "),
    ("C3", "Ива", "79164738293", "nobody-at-example.com"),  # invalid e-mail
    ("C4", "Иван", "916-473-82-94", "иван.петров@пример.рф"),  # local 10 digits, IDN
    ("C5", "Пётр", "+7 (9I6) 473-82-95", "bad@@example..com"),  # letter in the phone
    ("C6", "Ли", "0016504738296", "weird.Name@sub.example.co.uk"),  # foreign, 00 prefix
    ("C8", "Ося", "tel:89164738298;ext=12", "mailto:X.Y4738@Example.com"),
    ("C9", "Зоя К.", "+7(916)4738291", "ZOYA.QUILL+CRM@example.com"),  # C1 again, other format
    ("C10", "Ёж", "ext. 4738", "short@x.io"),  # too short to be a phone
    ("C11", "Макс", "8916473829100000", "max.long@example.com"),  # too long
]
# Quarantined: registered_at does not parse, but the row carries contacts.
QUARANTINED_CLIENT = ("C7", "Кира", "+7-916-473-82-97", "quarantined.person@example.net")
# Contacts only present in files that get rejected whole.
REJECTED_CONTACTS = {
    "headerless": ("+7 916 473 83 00", "headerless.row@example.com"),
    "cp1251": ("8-916-473-83-01", "cp1251.row@example.com"),
    "xlsx": ("+79164738302", "broken.xlsx@example.com"),
    "jsonl": ("+7 916 473 83 03", "json.leak@example.com"),
    "ragged": ("8 916 473 83 04", "ragged.row@example.com"),
    "sales": ("+7 916 473 83 05", "sales.note@example.com"),
}
# Loaded through the other two formats.
JSONL_CLIENT = ("C12", "Джейсон", 79164738306, "Json.Number@Example.com")  # phone as a number
XLSX_CLIENT = ("C13", "Эксель", "8 916 473-83-07", "Excel.Cell@Example.com")
DRIFT_CONTACTS = ("+7 916 473 83 08", "drift.column@example.com")  # in an unknown column

ALL_PHONES = [
    *(c[2] for c in LOADED_CLIENTS),
    QUARANTINED_CLIENT[2],
    *(p for p, _ in REJECTED_CONTACTS.values()),
    str(JSONL_CLIENT[2]),
    XLSX_CLIENT[2],
    DRIFT_CONTACTS[0],
]
ALL_EMAILS = [
    *(c[3] for c in LOADED_CLIENTS),
    QUARANTINED_CLIENT[3],
    *(e for _, e in REJECTED_CONTACTS.values()),
    JSONL_CLIENT[3],
    XLSX_CLIENT[3],
    DRIFT_CONTACTS[1],
]

# Report files the hostile refresh renders: contact files for a manager, plus an analyst
# chain-clients entry that must fail (an error path whose message reaches Dagster events).
HOSTILE_REPORTS = """
anchor: latest_data
reports:
  - {name: repeat, report: repeat-clients, period: all_time, params: {min_deals: 1},
     formats: [json, csv]}
  - {name: clients, report: chain-clients, role: manager, formats: [xlsx, csv]}
  - {name: non-returners, report: promotions, period: all_time, params: {location: L1},
     role: manager, formats: [xlsx]}
  - {name: clients-for-analyst, report: chain-clients, formats: [json]}
"""


def _client_row(client_id: str, name: str, phone: Any, email: str, **extra: str) -> dict:
    return {
        "client_id": client_id,
        "location_id": "L1",
        "name": name,
        "phone": phone,
        "email": email,
        "registered_at": "2025-01-01 10:00",
        **extra,
    }


def write_hostile_landing(landing: Path) -> None:
    clients = [_client_row(*c) for c in LOADED_CLIENTS]
    clients[0]["balance"] = "12,34,56"  # an optional value that does not parse: a warning
    clients.append(_client_row(*QUARANTINED_CLIENT, registered_at="2025-13-45 99:99"))
    sales = [
        {
            "sale_id": f"S{i}",
            "location_id": "L1",
            "client_id": client_id,
            "amount": "1000",
            "status": "posted",
            "posted_at": f"2025-02-0{i} 11:00",
            "created_at": f"2025-02-0{i} 11:00",
        }
        for i, client_id in enumerate(("C1", "C2", "C3", "C1"), start=1)
    ]
    write_landing(
        landing,
        {
            "locations": [{"location_id": "L1", "name": "Центр", "timezone": "Europe/Moscow"}],
            "clients": clients,
            "sales": sales,
        },
    )
    folder = landing / "clients"

    # Rejected: no header row, so the first client becomes the header (missing columns).
    phone, email = REJECTED_CONTACTS["headerless"]
    (folder / "headerless.csv").write_text(
        f"C20,L1,Нет заголовка,{phone},{email},,,,2025-01-01 10:00,,,2025-01-01 00:00\n"
        f"C21,L1,Второй,{phone},{email},,,,2025-01-01 10:00,,,2025-01-01 00:00\n",
        encoding="utf-8",
    )
    # Rejected: not UTF-8.
    phone, email = REJECTED_CONTACTS["cp1251"]
    (folder / "cp1251.csv").write_bytes(
        "client_id,location_id,name,phone,email,registered_at,updated_at\n"
        f"C22,L1,Кириллица,{phone},{email},2025-01-01 10:00,2025-01-01 00:00\n".encode("cp1251")
    )
    # Rejected: an .xlsx that is not a workbook (its bytes are a CSV full of contacts).
    phone, email = REJECTED_CONTACTS["xlsx"]
    (folder / "broken.xlsx").write_text(
        f"client_id,phone,email\nC23,{phone},{email}\n", encoding="utf-8"
    )
    # Rejected: a JSON Lines file whose second line is cut off mid-object.
    phone, email = REJECTED_CONTACTS["jsonl"]
    first = _client_row("C24", "Json", phone, email, updated_at="2025-01-01 00:00")
    (folder / "truncated.jsonl").write_text(
        json.dumps(first, ensure_ascii=False) + "\n" + f'{{"client_id": "C25", "phone": "{phone}"'
        f', "email": "{email}"\n',
        encoding="utf-8",
    )
    # Rejected: a row with more fields than the header.
    phone, email = REJECTED_CONTACTS["ragged"]
    (folder / "ragged.csv").write_text(
        "client_id,location_id,phone,email,registered_at,updated_at\n"
        f"C26,L1,{phone},{email},2025-01-01 10:00,2025-01-01 00:00,{phone},{email}\n",
        encoding="utf-8",
    )
    # Rejected: a sales file without the required amount column, with contacts in a note.
    phone, email = REJECTED_CONTACTS["sales"]
    (landing / "sales" / "manual_upload.csv").write_text(
        "sale_id,location_id,client_id,status,posted_at,created_at,updated_at,note\n"
        f"S9,L1,C1,posted,2025-02-05 11:00,2025-02-05 11:00,2025-01-01 00:00,"
        f'"call {phone}, {email}"\n',
        encoding="utf-8",
    )
    # Loaded, with schema drift: the unknown column holds contacts (only its name may show).
    phone, email = DRIFT_CONTACTS
    (folder / "drift.csv").write_text(
        "client_id,location_id,name,registered_at,updated_at,telegram\n"
        f'C27,L1,Дрифт,2025-01-01 10:00,2025-01-01 00:00,"{phone} {email}"\n',
        encoding="utf-8",
    )
    # Loaded: JSON Lines with the phone as a JSON number.
    client_id, name, number, email = JSONL_CLIENT
    (folder / "numbers.jsonl").write_text(
        json.dumps(
            {**_client_row(client_id, name, number, email), "updated_at": "2025-01-01 00:00"},
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    # Loaded: xlsx.
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    row = {**_client_row(*XLSX_CLIENT), "updated_at": "2025-01-01 00:00"}
    sheet.append(list(row))
    sheet.append(list(row.values()))
    workbook.save(folder / "sheet.xlsx")


def phone_needles(raw: object) -> set[str]:
    """A phone as it may show up: as landed, digits only, +digits, and its last 7 digits.

    Digit forms are only used when there are at least 7 digits: shorter runs would match
    dates, amounts and hashes by coincidence."""
    text = str(raw).strip()
    digits = re.sub(r"[^0-9]", "", text)
    needles = {text} if len(text) >= 6 else set()
    if len(digits) >= 7:
        needles |= {digits, "+" + digits, digits[-7:]}
    return needles


def email_needles(raw: object) -> set[str]:
    text = str(raw).strip()
    return {text, text.lower()} if len(text) >= 6 else set()


_DIGIT_RUN = re.compile(r"\+?[0-9]+")


def find_leaks(text: str, needles: Iterable[str]) -> list[str]:
    """Each needle found in `text`, with a little context to locate it.

    A needle of digits (`79164738291`, `+79164738291`, `4738291`) counts only as a whole run
    of digits: logs are full of float durations and microsecond timestamps whose digits
    would otherwise contain a 7-digit tail by chance."""
    runs = set()
    for run in _DIGIT_RUN.findall(text):
        runs |= {run, run.lstrip("+")}
    found = []
    for needle in needles:
        if needle in runs if _DIGIT_RUN.fullmatch(needle) else needle in text:
            at = text.find(needle)
            found.append(f"{needle!r} in …{text[max(0, at - 60) : at + len(needle) + 60]!r}…")
    return found


def hostile_settings(root: Path, landing: Path) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "reports.yaml"
    config.write_text(HOSTILE_REPORTS, encoding="utf-8")
    return Settings(
        landing=landing,
        warehouse=root / "wh.duckdb",
        reports_dir=root / "reports",
        reports_config=config,
    )


def refresh_command(settings: Settings) -> list[str]:
    return [
        CLI,
        "refresh",
        "--landing",
        str(settings.landing),
        "--warehouse",
        str(settings.warehouse),
        "--reports-dir",
        str(settings.reports_dir),
        "--reports-config",
        str(settings.reports_config),
    ]


def _child_env(**extra: str) -> dict[str, str]:
    # No CRM_* defaults that could point a child at the developer's own warehouse, and no
    # DAGSTER_HOME unless given (run_refresh then uses an ephemeral instance).
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("CRM_")}
    return {**env, **extra}


@dataclass
class Background:
    """A refresh running as a subprocess; `finish()` waits and returns (rc, stdout, stderr)."""

    process: subprocess.Popen
    settings: Settings
    _done: tuple[int, str, str] | None = None

    def finish(self) -> tuple[int, str, str]:
        if self._done is None:
            out, err = self.process.communicate(timeout=600)
            self._done = (self.process.returncode, out, err)
        return self._done


@pytest.fixture(scope="module")
def refreshes(tmp_path_factory):
    """Start both refreshes (hostile landing, bundled sample) at once, as `crm-analytics
    refresh` subprocesses.

    A refresh costs about 20 s of CPU whatever the landing's size (one `dbt build`), so the
    hostile landing is refreshed once and that one run serves every part-1 scan: its
    stdout/stderr, the log file its run_refresh() writes, its ledger, and its Dagster
    events. For the events, the child gets DAGSTER_HOME pointing at a throwaway folder, so
    run_refresh() records the run in a persistent instance (the one `dagster dev` shows)
    that this process reads afterwards."""
    from orchestration.project import ensure_manifest

    # Parse once here: children that find a stale manifest would all re-parse concurrently.
    ensure_manifest()
    root = tmp_path_factory.mktemp("security")
    landing = root / "hostile_landing"
    write_hostile_landing(landing)
    dagster_home = root / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    hostile = hostile_settings(root / "hostile", landing)
    sample = Settings(
        landing=SAMPLE,
        warehouse=root / "sample" / "wh.duckdb",
        reports_dir=root / "sample" / "reports",
        reports_config=BUNDLED_REPORTS,
    )
    started = {}
    for name, settings, env in (
        ("hostile", hostile, _child_env(DAGSTER_HOME=str(dagster_home))),
        ("sample", sample, _child_env()),
    ):
        process = subprocess.Popen(
            refresh_command(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        started[name] = Background(process, settings)
    yield {"root": root, "landing": landing, "dagster_home": dagster_home, **started}
    for background in started.values():
        if background.process.poll() is None:
            background.process.kill()
            background.process.wait()


# --------------------------------------------------------------------------------------------
# Part 1: no contact data in logs, events, errors or the ledger
# --------------------------------------------------------------------------------------------


@dataclass
class HostileRun:
    settings: Settings
    returncode: int
    stdout: str
    stderr: str
    logs: list  # every EventLogEntry of the run: Dagster events and context.log messages
    dagster_home: Path


@pytest.fixture(scope="module")
def hostile_run(refreshes) -> HostileRun:
    from dagster import DagsterInstance

    returncode, out, err = refreshes["hostile"].finish()
    with DagsterInstance.from_config(str(refreshes["dagster_home"])) as instance:
        (record,) = instance.get_run_records()
        logs = list(instance.all_logs(record.dagster_run.run_id))
    return HostileRun(
        refreshes["hostile"].settings, returncode, out, err, logs, refreshes["dagster_home"]
    )


@pytest.fixture(scope="module")
def hostile_needles(hostile_run) -> set[str]:
    """Every contact of the hostile landing, as landed and as the pipeline normalised it."""
    needles: set[str] = set()
    for phone in ALL_PHONES:
        needles |= phone_needles(phone)
    for email in ALL_EMAILS:
        needles |= email_needles(email)
    with duckdb.connect(str(hostile_run.settings.warehouse), read_only=True) as con:
        for phone, email in con.execute("select phone, email from marts.dim_clients").fetchall():
            needles |= phone_needles(phone or "") | email_needles(email or "")
    return needles


def test_hostile_refresh_exercised_the_error_paths(hostile_run, hostile_needles):
    """The scans below only mean something if the refresh really rejected, quarantined,
    published, rendered contact files and failed the analyst chain-clients entry."""
    lines = hostile_run.stdout.splitlines()
    # The analyst chain-clients entry fails on purpose, so the refresh reports FAILED (1).
    assert hostile_run.returncode == 1, hostile_run.stderr[-3000:]
    assert "  files: 6 loaded, 0 duplicate, 6 rejected (0 already ingested)" in lines, lines
    assert "  rows quarantined: 1 (value warnings: 1)" in lines, lines
    assert any(line.startswith("  dbt: ") and line.endswith(" 0 failed") for line in lines)
    assert any(line.startswith("  published: ") for line in lines), lines
    assert any("needs --role manager" in line for line in lines), lines
    kinds = {e.dagster_event.event_type_value for e in hostile_run.logs if e.is_dagster_event}
    assert {"ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION", "STEP_FAILURE"} <= kinds
    assert any(not e.is_dagster_event for e in hostile_run.logs)  # context.log lines
    with duckdb.connect(str(hostile_run.settings.warehouse), read_only=True) as con:
        quarantined = con.execute(
            "select column_name from audit.audit_quarantined_rows where entity = 'clients'"
        ).fetchall()
    assert quarantined == [("registered_at",)]
    # The needles do match the contacts as the pipeline writes them (the manager's file).
    contacts = (hostile_run.settings.reports_dir / "clients.clients.csv").read_text("utf-8-sig")
    assert len(find_leaks(contacts, hostile_needles)) >= 20


def test_no_contact_data_in_dagster_events_or_messages(hostile_run, hostile_needles):
    leaks = []
    for entry in hostile_run.logs:
        # user_message: context.log lines and event messages; the event's repr covers its
        # event_specific_data: materialization and asset-check metadata, step errors.
        texts = [entry.user_message or "", repr(entry.dagster_event)]
        if entry.is_dagster_event:
            texts.append(repr(entry.dagster_event.event_specific_data))
        kind = entry.dagster_event_type or "log"
        leaks += [f"{kind}: {leak}" for text in texts for leak in find_leaks(text, hostile_needles)]
    assert not leaks, "\n".join(leaks[:20])


def test_no_contact_data_in_dagster_instance_files(hostile_run, hostile_needles):
    """Whatever else the instance stored (event database, compute logs), byte for byte."""
    files = [p for p in hostile_run.dagster_home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files), files
    # Events are stored as JSON, where non-ASCII text may be \u-escaped.
    needles = hostile_needles | {json.dumps(n)[1:-1] for n in hostile_needles}
    leaks = [
        f"{path.relative_to(hostile_run.dagster_home)}: {leak}"
        for path in files
        for leak in find_leaks(path.read_bytes().decode("utf-8", "replace"), needles)
    ]
    assert not leaks, "\n".join(leaks[:20])


def test_no_contact_data_in_refresh_output_or_logs(hostile_run, hostile_needles):
    settings = hostile_run.settings
    log_files = sorted((settings.state_dir / "logs").glob("refresh-*.log"))
    assert len(log_files) == 1 and log_files[0].read_text(encoding="utf-8").strip()
    assert f"  log: {log_files[0]}" in hostile_run.stdout.splitlines()
    # The rejection warnings reach the terminal: the scan covers an error path for real.
    assert "rejected sales/manual_upload.csv" in hostile_run.stderr
    texts = {"stdout": hostile_run.stdout, "stderr": hostile_run.stderr}
    # dbt's own log and run results sit in the instance's state: logs all the same.
    target = settings.dbt_target_dir
    for path in [*log_files, *target.glob("*.log"), target / "run_results.json"]:
        if path.exists():
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    leaks = [
        f"{name}: {x}" for name, text in texts.items() for x in find_leaks(text, hostile_needles)
    ]
    assert not leaks, "\n".join(leaks[:20])


def test_no_contact_data_in_ledger(hostile_run, hostile_needles):
    with duckdb.connect(str(hostile_run.settings.warehouse), read_only=True) as con:
        cursor = con.execute("select * from audit.audit_ingest_ledger")
        names = [d[0] for d in cursor.description]
        ledger = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    rejected = {row["file_name"]: row["reason"] for row in ledger if row["status"] == "rejected"}
    assert set(rejected) == {
        "headerless.csv",
        "cp1251.csv",
        "broken.xlsx",
        "truncated.jsonl",
        "ragged.csv",
        "manual_upload.csv",
    }
    assert all(rejected.values()), rejected
    # Reasons above all, but no column of the ledger has any business holding a contact.
    leaks = [
        f"{row['file_name']}: {leak}"
        for row in ledger
        for leak in find_leaks(repr(row), hostile_needles)
    ]
    assert not leaks, "\n".join(leaks)


def test_no_contact_data_in_ingest_logger_output(refreshes, hostile_needles, tmp_path, caplog):
    """Ingest's own logger, at every level (the refresh's terminal only shows warnings).

    Ingestion alone is cheap, so it runs again here, in-process, into a fresh state."""
    from crm_analytics.ingest import ingest

    with caplog.at_level(logging.DEBUG, logger="crm_analytics.ingest"):
        result = ingest(refreshes["landing"], tmp_path / "state")
    assert len(result.rejected) == 6
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("crm_analytics")]
    text = "\n".join(messages)
    assert "rejected clients/headerless.csv" in text and "loaded clients/" in text, text
    leaks = find_leaks(text + "\n".join(result.warnings), hostile_needles)
    assert not leaks, "\n".join(leaks)


# --------------------------------------------------------------------------------------------
# Part 2: analyst files hold no contact data; manager contact files are private
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(refreshes) -> Settings:
    returncode, out, err = refreshes["sample"].finish()
    assert returncode == 0, (out[-2000:], err[-3000:])
    return refreshes["sample"].settings


@pytest.fixture(scope="module")
def sample_contacts(sample) -> set[str]:
    """Every phone and e-mail of the sample: published (normalised) and as landed."""
    needles: set[str] = set()
    with duckdb.connect(str(sample.warehouse), read_only=True) as con:
        for phone, email in con.execute("select phone, email from marts.dim_clients").fetchall():
            if phone:
                digits = re.sub(r"[^0-9]", "", phone)
                needles |= {phone, "+" + digits, digits}
            if email:
                needles |= email_needles(email)
    # The raw zone holds every landed client file (csv, xlsx, jsonl) as text.
    raw = sample.state_dir / "raw" / "clients" / "*.parquet"
    with duckdb.connect() as con:
        landed = con.execute(
            f"select phone, email from read_parquet('{raw}', union_by_name = true)"
        ).fetchall()
    assert len(landed) > 500
    for phone, email in landed:
        text = (phone or "").strip()
        # Short invalid "phones" (5 digits) would match amounts: only real-looking ones.
        if len(re.sub(r"[^0-9]", "", text)) >= 7:
            needles |= {text, re.sub(r"[^0-9]", "", text)}
        if email:
            needles |= email_needles(email)
    assert len(needles) > 1000
    return needles


def _instances() -> list[dict]:
    return yaml.safe_load(BUNDLED_REPORTS.read_text(encoding="utf-8"))["reports"]


def _files_of(reports_dir: Path, instance: dict) -> list[Path]:
    files = []
    for fmt in instance.get("formats") or ["json"]:
        if fmt == "csv":
            pattern = re.compile(rf"{re.escape(instance['name'])}(\.[a-z_]+)?\.csv")
            files += [p for p in reports_dir.iterdir() if pattern.fullmatch(p.name)]
        else:
            files.append(reports_dir / f"{instance['name']}.{fmt}")
    return files


def file_text(path: Path) -> str:
    """Everything a reader of the file sees, as text."""
    if path.suffix == ".xlsx":
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True)
        parts = []
        for sheet in workbook.worksheets:
            parts.append(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                parts += [str(v) for v in row if v is not None]
        workbook.close()
        return "\n".join(parts)
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return path.read_text(encoding="utf-8-sig")


def test_contact_needles_match_the_manager_files(sample, sample_contacts):
    """A positive control: the needles the analyst scan uses do find the contacts where
    they are allowed, in every format the manager files come in."""
    for name in (
        "chain-clients.clients.csv",
        "chain-clients.xlsx",
        "non-returners-last-month.xlsx",
    ):
        assert find_leaks(file_text(sample.reports_dir / name), sample_contacts), name


def test_every_rendered_file_belongs_to_a_configured_entry(sample):
    rendered = set(sample.reports_dir.iterdir())
    configured = {p for instance in _instances() for p in _files_of(sample.reports_dir, instance)}
    assert configured <= rendered, sorted(str(p) for p in configured - rendered)
    # So no analyst-visible file escapes the scan below.
    assert rendered == configured, sorted(str(p) for p in rendered - configured)


@pytest.mark.parametrize(
    "instance",
    [i for i in _instances() if i.get("role", "analyst") == "analyst"],
    ids=lambda i: i["name"],
)
def test_analyst_files_hold_no_contact_data(sample, sample_contacts, instance):
    files = _files_of(sample.reports_dir, instance)
    assert files
    for path in files:
        text = file_text(path)
        assert text.strip(), f"{path.name}: nothing extracted"
        leaks = find_leaks(text, sample_contacts)
        assert not leaks, f"{path.name}:\n" + "\n".join(leaks[:10])
        if path.suffix == ".json":
            payload = json.loads(text)
            # (the summary's `non_returners` is a count; the section is the list)
            assert "non_returners" not in payload, path.name
            assert not _json_keys(payload) & {"phone", "email"}, path.name
        if path.suffix == ".csv":
            header = next(csv.reader(io.StringIO(text)))
            assert not set(header) & {"phone", "email"}, path.name


def _json_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _json_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _json_keys(v)}
    return set()


def test_manager_contact_files_are_private_and_analyst_files_ordinary(sample):
    umask = os.umask(0)
    os.umask(umask)
    for instance in _instances():
        for path in _files_of(sample.reports_dir, instance):
            mode = stat.S_IMODE(path.stat().st_mode)
            if instance.get("role") == "manager":
                # Every manager entry of the bundled config carries phone/email columns.
                assert mode == 0o600, (path.name, oct(mode))
            else:
                # No contact data, so nothing to hide: an ordinary file for the umask.
                assert mode == 0o666 & ~umask, (path.name, oct(mode))


def test_analyst_chain_clients_refused_and_promotions_without_non_returners(sample, tmp_path):
    out = tmp_path / "clients.json"
    done = report_cli(sample.warehouse, "chain-clients", "--out", str(out))
    assert_clean_refusal(done)
    assert "manager" in done.stderr and list(tmp_path.iterdir()) == []
    for section in ("non_returners", None):
        extra = ["--section", section] if section else []
        done = report_cli(
            sample.warehouse,
            "promotions",
            *ALL_TIME,
            "--location",
            "MSK01",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "p.csv"),
            *extra,
        )
        if section:
            assert_clean_refusal(done)
            assert list(tmp_path.iterdir()) == []
        else:
            assert done.returncode == 0, done.stderr
            names = sorted(p.name for p in tmp_path.iterdir())
            assert names == [f"p.{k}.csv" for k in ("daily", "earnings", "specialists", "summary")]


# --------------------------------------------------------------------------------------------
# Part 3: injection strings in report parameters
# --------------------------------------------------------------------------------------------

ALL_TIME = ("--from", "2000-01-01", "--to", "2100-01-01")

LONG = "Ё🙂" * 10_000 + "'; --"  # 60 KB of non-ASCII argv, echoed back in refusals
INVALID_UTF8 = b"\xff\xfe invalid utf-8"  # not UTF-8: Python hands it over as surrogates
INJECTIONS: list[str | bytes] = [
    "'; drop table marts.dim_clients; --",
    "%",
    "_",
    "' or '1'='1",
    "MSK01' or '1'='1",  # a real id with a tail: caught if the value were concatenated
    "MSK01%",  # matched by LIKE, not by =
    "\"double\" 'single' `back`",
    "\\'; \\\\ C:\\path\\ \\x00",
    "Ё🙂",
    "line\nbreak\ttab",
    LONG,
    INVALID_UTF8,
]
# Sent through a real process: what argv decoding, its size limit and stderr's encoding do.
THROUGH_ARGV = (LONG, INVALID_UTF8)


def report_cli(warehouse: Path, *args: str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "report", *args, "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        errors="replace",
        env=_child_env(),
        check=False,
    )


def report_in_process(warehouse: Path, *args: str | bytes) -> subprocess.CompletedProcess[str]:
    """The CLI's main() in this process, shaped like report_cli(): an exception escaping
    main() is what the console script would print as a traceback (exit 1)."""
    from crm_analytics.cli import main

    argv = ["report", *(_as_text(a) for a in args), "--warehouse", str(warehouse)]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse
            code = exit_.code
        except Exception:
            traceback.print_exc()
            code = 1
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def assert_clean_refusal(done: subprocess.CompletedProcess[str], context: str = "") -> None:
    lines = done.stderr.splitlines()
    assert done.returncode == 2, (context, done.returncode, done.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("crm-analytics: error: "), (context, lines)
    assert "Traceback" not in done.stderr, context


def warehouse_snapshot(warehouse: Path) -> tuple[str, dict[str, int], list[str]]:
    """Bytes checksum, row count per table, and the files beside it (no WAL appears)."""
    digest = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        counts = {
            f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
            for s, t in tables
        }
    siblings = sorted(p.name for p in warehouse.parent.iterdir())
    return digest, counts, siblings


MANAGER = ("--role", "manager")


@dataclass(frozen=True)
class Case:
    report: str
    option: str
    fixed: tuple[str, ...]  # the other arguments the report needs
    # What a correct answer is: None = only a refusal; "search" = the clients the spec's
    # search rule selects; "no_clients" = an empty list; "nothing_attributed" = no sale
    # attributed, unfiltered totals unchanged.
    expect: str | None = None

    @property
    def id(self) -> str:
        role = "-analyst" if self.report == "chain-clients" and not self.fixed else ""
        return f"{self.report}{self.option}{role}"


CASES = [
    Case("promotions", "--location", ALL_TIME),
    Case("promotions", "--promotion-type", (*ALL_TIME, "--location", "MSK01")),
    Case("repeat-clients", "--location", ALL_TIME),
    Case("promo-codes", "--location", ALL_TIME),
    Case("attributed-sales", "--store", ALL_TIME),
    Case("attributed-sales", "--associate", ALL_TIME, "nothing_attributed"),
    Case("attributed-sales", "--activity-type", ALL_TIME, "nothing_attributed"),
    Case("chain-clients", "--search", MANAGER, "search"),
    Case("chain-clients", "--location-group", MANAGER, "no_clients"),
    Case("chain-clients", "--visited-location", MANAGER, "no_clients"),
    Case("chain-clients", "--gender", MANAGER),
    Case("chain-clients", "--importance", MANAGER),
    Case("chain-clients", "--sort", MANAGER),
    # An analyst never gets past the role check, whatever the parameter.
    Case("chain-clients", "--search", ()),
]


@pytest.fixture(scope="module")
def sample_facts(sample) -> dict:
    """What the expected answers are computed from, independently of the report code."""
    with duckdb.connect(str(sample.warehouse), read_only=True) as con:
        clients = con.execute(
            "select chain_client_id, client_name, phone, email from marts.dim_clients"
        ).fetchall()
        cards = con.execute(
            "select chain_client_id, card_number from marts.dim_client_records "
            "where card_number is not null"
        ).fetchall()
        groups = {
            g for (g,) in con.execute("select location_group from marts.dim_locations").fetchall()
        }
    by_client: dict[str, set[str]] = {}
    for client_id, card in cards:
        by_client.setdefault(client_id, set()).add(card)
    return {"clients": clients, "cards": by_client, "groups": groups}


def _expected_search(facts: dict, text: str) -> list[str]:
    """R2 `search` per the spec: substring of name or e-mail (lower-cased), digits of the
    phone (4+ digits), or an exact card number."""
    needle = text.strip().lower()
    digits = "".join(re.findall(r"[0-9]", text))
    matched = []
    for client_id, name, phone, email in facts["clients"]:
        if (
            needle in (name or "").lower()
            or needle in (email or "").lower()
            or (len(digits) >= 4 and digits in re.sub(r"[^0-9]", "", phone or ""))
            or text.strip() in facts["cards"].get(client_id, set())
        ):
            matched.append(client_id)
    return sorted(matched)


def _no_clients(payload: dict, _: str) -> str | None:
    return None if payload["clients"] == [] else f"{len(payload['clients'])} clients listed"


def _nothing_attributed(baseline: dict) -> Callable[[dict, str], str | None]:
    def check(payload: dict, _: str) -> str | None:
        summary = payload["summary"]
        if summary["attributed_sales"] != 0 or payload["purchases"] or payload["associates"]:
            return f"attributed: {summary}"
        # The unfiltered totals do not depend on the associate/type filters.
        if (summary["total_sales"], summary["total_amount"]) != (
            baseline["summary"]["total_sales"],
            baseline["summary"]["total_amount"],
        ):
            return f"totals changed: {summary}"
        return None

    return check


@pytest.fixture(scope="module")
def baseline_attributed(sample) -> dict:
    done = report_cli(sample.warehouse, "attributed-sales", *ALL_TIME)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["summary"]["attributed_sales"] > 0  # so "nothing attributed" means something
    return payload


def _as_text(value: str | bytes) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def _known_value(case: Case, text: str, facts: dict) -> bool:
    """Injection strings that happen to be real values would not test anything."""
    if case.option == "--location-group":
        return text in facts["groups"]
    return False


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_injection_strings_give_empty_results_or_clean_refusals(
    sample, sample_facts, baseline_attributed, tmp_path, case
):
    def search(payload: dict, text: str) -> str | None:
        got = sorted(c["chain_client_id"] for c in payload["clients"])
        want = _expected_search(sample_facts, text)
        return None if got == want else f"{len(got)} clients, expected {len(want)}"

    check = {
        None: None,
        "search": search,
        "no_clients": _no_clients,
        "nothing_attributed": _nothing_attributed(baseline_attributed),
    }[case.expect]
    before = warehouse_snapshot(sample.warehouse)

    def attempt(number: int, value: str | bytes, run: Callable) -> str | None:
        folder = tmp_path / f"attempt{number}"
        folder.mkdir()
        out = folder / "out.json"
        done = run(
            sample.warehouse, case.report, *case.fixed, case.option, value, "--out", str(out)
        )
        context = f"{case.report} {case.option} {_as_text(value)[:60]!r} ({run.__name__})"
        if "Traceback" in done.stderr:
            return f"{context}: traceback\n{done.stderr[-1500:]}"
        written = sorted(p.name for p in folder.iterdir())
        if done.returncode != 0:
            lines = done.stderr.splitlines()
            if done.returncode != 2 or len(lines) != 1:
                return f"{context}: exit {done.returncode}, stderr {done.stderr[-500:]!r}"
            if not lines[0].startswith("crm-analytics: error: "):
                return f"{context}: unclear refusal {lines[0][:200]!r}"
            return f"{context}: refused but wrote {written}" if written else None
        if check is None:
            return f"{context}: accepted, expected a refusal"
        if written != ["out.json"]:
            return f"{context}: wrote {written}"
        problem = check(json.loads(out.read_text(encoding="utf-8")), _as_text(value))
        return f"{context}: {problem}" if problem else None

    values = [v for v in INJECTIONS if not _known_value(case, _as_text(v), sample_facts)]
    # The values whose trip through argv and a real terminal stream matters run as real
    # `crm-analytics` processes (two at a time); the rest call the same main() in-process,
    # which keeps 14 x 12 attempts within the module's time budget.
    with ThreadPoolExecutor(max_workers=2) as pool:
        in_subprocess = [
            pool.submit(attempt, n, v, report_cli)
            for n, v in enumerate(values)
            if v in THROUGH_ARGV
        ]
        problems = [
            attempt(n, v, report_in_process) for n, v in enumerate(values) if v not in THROUGH_ARGV
        ]
        problems += [future.result() for future in in_subprocess]
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)
    assert warehouse_snapshot(sample.warehouse) == before


# --------------------------------------------------------------------------------------------
# Part 4: --out and --section
# --------------------------------------------------------------------------------------------


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its bytes (None for a directory)."""
    return {
        str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
    }


def temporaries(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if p.name.endswith(".tmp"))


PROMOTIONS = ("promotions", *ALL_TIME, "--location", "MSK01")
PROMOTION_SECTIONS = ("daily", "earnings", "specialists", "summary")


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx", "pdf"])
def test_out_refuses_an_existing_directory(sample, tmp_path, fmt):
    target = tmp_path / f"report.{fmt}"
    target.mkdir()
    (target / "keep.txt").write_text("untouched", encoding="utf-8")
    before = tree(tmp_path)
    done = report_cli(sample.warehouse, *PROMOTIONS, "--format", fmt, "--out", str(target))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert tree(tmp_path) == before


def test_csv_refuses_when_a_section_target_is_a_directory(sample, tmp_path):
    # The third of four section files cannot be written: nothing at all may be written,
    # not the first two either.
    (tmp_path / "report.earnings.csv").mkdir()
    before = tree(tmp_path)
    done = report_cli(
        sample.warehouse, *PROMOTIONS, "--format", "csv", "--out", str(tmp_path / "report.csv")
    )
    assert_clean_refusal(done)
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    ("fmt", "section", "expected"),
    [
        ("json", None, ["r.json"]),
        ("xlsx", None, ["r.xlsx"]),
        ("pdf", None, ["r.pdf"]),
        ("csv", None, [f"r.{s}.csv" for s in PROMOTION_SECTIONS]),
        ("csv", "daily", ["r.csv"]),
        ("xlsx", "daily", ["r.xlsx"]),
    ],
)
def test_out_writes_only_the_named_files(sample, tmp_path, fmt, section, expected):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "neighbour.txt").write_text("untouched", encoding="utf-8")
    before = tree(tmp_path)
    extra = ["--section", section] if section else []
    done = report_cli(
        sample.warehouse, *PROMOTIONS, "--format", fmt, "--out", str(out_dir / f"r.{fmt}"), *extra
    )
    assert done.returncode == 0, done.stderr
    after = tree(tmp_path)
    added = sorted(set(after) - set(before))
    assert added == [f"out/{name}" for name in sorted(expected)]
    assert {k: v for k, v in after.items() if k in before} == before
    assert not temporaries(tmp_path)


def test_out_replaces_a_symlink_instead_of_writing_through_it(sample, tmp_path):
    """A link planted at the target must not redirect the report onto another file."""
    victim = tmp_path / "elsewhere" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("precious", encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "r.json").symlink_to(victim)
    done = report_cli(sample.warehouse, *PROMOTIONS, "--out", str(out_dir / "r.json"))
    assert done.returncode == 0, done.stderr
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not (out_dir / "r.json").is_symlink()
    assert json.loads((out_dir / "r.json").read_text(encoding="utf-8"))["report"] == "promotions"
    assert sorted(p.name for p in out_dir.iterdir()) == ["r.json"]


@pytest.mark.parametrize(
    "section",
    ["../evil", "..", "daily/../daily", "sub/daily", "{root}/evil", "..\\evil", "./daily"],
)
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_section_with_path_parts_is_refused_and_writes_nothing(sample, tmp_path, fmt, section):
    out_dir = tmp_path / "a" / "b"
    out_dir.mkdir(parents=True)
    section = section.format(root=tmp_path)  # an absolute path, inside what is watched
    before = tree(tmp_path)
    done = report_cli(
        sample.warehouse,
        *PROMOTIONS,
        "--format",
        fmt,
        "--out",
        str(out_dir / f"r.{fmt}"),
        "--section",
        section,
    )
    assert_clean_refusal(done, section)
    assert tree(tmp_path) == before


def test_no_temporaries_after_a_failed_write(sample, tmp_path, monkeypatch):
    """A write that fails at the last step (the rename) leaves neither the target nor its
    temporary file behind; an export before it left no temporary either."""
    import exporters.atomic
    from crm_analytics.reports.base import connect
    from crm_analytics.reports.registry import report_module
    from exporters import export

    with connect(sample.warehouse) as con:
        # Contact columns (the private path) but no rows: rendering stays cheap.
        result = report_module("chain-clients").run(
            con, {"search": "no such client"}, "manager", datetime(2026, 1, 1)
        )
    assert export(result, "json", tmp_path / "ok.json") == [tmp_path / "ok.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.json"]

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(exporters.atomic.os, "replace", refuse)
    for fmt in ("json", "csv", "xlsx", "pdf"):
        with pytest.raises(OSError):
            export(result, fmt, tmp_path / f"failed.{fmt}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.json"]
    assert not temporaries(tmp_path)
