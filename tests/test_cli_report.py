"""`crm-analytics report`: options, refusals, outputs, access and start-up cost."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline import build_warehouse
from tests.test_report_promotions import EXTRACTS

CLI = str(Path(sys.executable).with_name("crm-analytics"))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("cli"), EXTRACTS)


def report(warehouse: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "report", *args, "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_json_goes_to_stdout_with_the_spec_keys(warehouse):
    done = report(warehouse, "repeat-clients", "--from", "2025-03-01", "--to", "2025-05-01")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert list(payload) == ["report", "params", "rows", "totals"]
    assert payload["report"] == "repeat-clients"
    assert payload["params"]["from"] == "2025-03-01T00:00:00"


def test_every_report_answers_in_json(warehouse, tmp_path):
    period = ["--from", "2025-03-01T00:00", "--to", "2025-04-01T00:00"]
    cases = {
        "promotions": [*period, "--location", "L1"],
        "chain-clients": ["--role", "manager"],
        "repeat-clients": period,
        "promo-codes": period,
        "attributed-sales": period,
    }
    for name, args in cases.items():
        out = tmp_path / f"{name}.json"
        done = report(warehouse, name, *args, "--out", str(out))
        assert done.returncode == 0, (name, done.stderr)
        assert json.loads(out.read_text(encoding="utf-8"))["report"] == name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sales-funnel"], "unknown report"),
        (["repeat-clients", "--from", "2025-04-01", "--to", "2025-03-01"], "must be after"),
        (
            ["repeat-clients", "--from", "2025-03-01", "--to", "2025-04-01", "--location", "X"],
            "unknown location",
        ),
        (
            [
                "promotions",
                "--from",
                "2025-03-01",
                "--to",
                "2025-04-01",
                "--location",
                "L1",
                "--promotion-type",
                "bogus",
            ],
            "unsupported --promotion-type",
        ),
        (
            [
                "attributed-sales",
                "--from",
                "2025-03-01",
                "--to",
                "2025-04-01",
                "--window-days",
                "-1",
            ],
            "negative",
        ),
        (
            ["repeat-clients", "--from", "2025-03-01", "--to", "2025-04-01", "--window-days", "3"],
            "does not apply",
        ),
        (["repeat-clients", "--from", "01.03.2025", "--to", "2025-04-01"], "--from must be"),
        (["chain-clients"], "--role manager"),
    ],
)
def test_refused_requests_exit_non_zero_with_one_line_and_no_file(
    warehouse, tmp_path, args, message
):
    out = tmp_path / "out.json"
    done = report(warehouse, *args, "--out", str(out))
    assert done.returncode != 0
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_contact_files_are_private_and_others_are_not(warehouse, tmp_path):
    clients = tmp_path / "clients.xlsx"
    assert (
        report(
            warehouse,
            "chain-clients",
            "--role",
            "manager",
            "--format",
            "xlsx",
            "--out",
            str(clients),
        ).returncode
        == 0
    )
    assert stat.S_IMODE(os.stat(clients).st_mode) == 0o600
    repeat = tmp_path / "repeat.csv"
    done = report(
        warehouse,
        "repeat-clients",
        "--from",
        "2025-03-01",
        "--to",
        "2025-05-01",
        "--format",
        "csv",
        "--section",
        "rows",
        "--out",
        str(repeat),
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(os.stat(repeat).st_mode) & 0o044  # readable by others: no contacts


def test_analyst_promotions_has_no_non_returners(warehouse):
    args = ["promotions", "--from", "2025-03-01", "--to", "2025-04-01", "--location", "L1"]
    analyst = json.loads(report(warehouse, *args).stdout)
    manager = json.loads(report(warehouse, *args, "--role", "manager").stdout)
    assert "non_returners" not in analyst and "non_returners" in manager


def test_report_does_not_import_dagster_or_dbt(warehouse):
    code = (
        "import sys\n"
        "from crm_analytics.cli import main\n"
        f"main(['report', 'repeat-clients', '--from', '2025-03-01', '--to', '2025-04-01',"
        f" '--warehouse', {str(warehouse)!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dbt',"
        " 'dagster_dbt', 'fpdf', 'openpyxl'))\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_report_connections_are_bounded_by_the_duckdb_settings(warehouse, monkeypatch):
    from crm_analytics.reports.base import connect

    monkeypatch.setenv("CRM_DUCKDB_MEMORY_LIMIT", "512MB")
    monkeypatch.setenv("CRM_DUCKDB_THREADS", "1")
    with connect(warehouse) as con:
        limit, threads = con.execute(
            "select current_setting('memory_limit'), current_setting('threads')"
        ).fetchone()
    # DuckDB reports the limit in binary units: 512 MB is 488.2 MiB
    assert limit == "488.2 MiB"
    assert int(threads) == 1
    monkeypatch.delenv("CRM_DUCKDB_MEMORY_LIMIT")
    monkeypatch.delenv("CRM_DUCKDB_THREADS")
    with connect(warehouse) as con:
        (limit,) = con.execute("select current_setting('memory_limit')").fetchone()
    assert limit == "2.7 GiB"  # the 3GB default, as dbt's
