"""The Dagster definitions load, and one refresh materializes everything in-process."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from crm_analytics.config import Settings
from orchestration.project import ensure_manifest
from tests.pipeline import write_landing

TINY = {
    "locations": [{"location_id": "L1", "name": "Центр", "timezone": "Europe/Moscow"}],
    "clients": [
        {
            "client_id": "C1",
            "location_id": "L1",
            "name": "Татьяна",
            "phone": "89123456789",
            "registered_at": "2025-01-01 10:00",
        },
        {
            "client_id": "C2",
            "location_id": "L1",
            "name": "Таня",
            "phone": "+7 912 345 67 89",
            "registered_at": "2025-01-02 10:00",
        },
    ],
    "sales": [
        {
            "sale_id": "S1",
            "location_id": "L1",
            "client_id": "C1",
            "amount": "1 500,50",
            "status": "posted",
            "posted_at": "2025-02-01 11:00",
            "created_at": "2025-02-01 11:00",
        },
        {
            "sale_id": "S2",
            "location_id": "L1",
            "client_id": "C2",
            "amount": "abc",
            "status": "posted",
            "posted_at": "2025-02-01 11:00",
            "created_at": "2025-02-01 11:00",
        },
    ],
}


REPORTS_YAML = """
anchor: latest_data
reports:
  - {name: repeat, report: repeat-clients, period: all_time, params: {min_deals: 1},
     formats: [json, csv]}
  - {name: clients, report: chain-clients, role: manager, formats: [xlsx]}
"""


def settings_for(root: Path, landing: Path) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "reports.yaml"
    config.write_text(REPORTS_YAML, encoding="utf-8")
    return Settings(
        landing=landing,
        warehouse=root / "wh.duckdb",
        reports_dir=root / "reports",
        reports_config=config,
    )


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    ensure_manifest()
    from orchestration.definitions import build_definitions

    root = tmp_path_factory.mktemp("defs")
    return build_definitions(settings_for(root, root / "landing"))


def test_definitions_load(defs):
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert {"raw/clients", "raw/sms_messages", "raw/ingested_files"} <= keys
    assert {"stg_crm__clients", "dim_clients", "fct_sales", "published_warehouse"} <= keys
    assert {"reports/repeat", "reports/clients"} <= keys
    assert defs.resolve_job_def("refresh") is not None
    assert defs.resolve_schedule_def("daily_refresh").cron_schedule == "0 6 * * *"
    checks = list(defs.resolve_asset_graph().asset_check_keys)
    assert any(check.name.startswith("unique_dim_clients") for check in checks)


def test_raw_sources_feed_staging(defs):
    graph = defs.resolve_asset_graph()
    parents = {
        key.to_user_string()
        for key in graph.get(
            next(k for k in graph.get_all_asset_keys() if k.to_user_string() == "base_crm__clients")
        ).parent_keys
    }
    assert parents == {"raw/clients"}


def test_refresh_materializes_everything_in_process(tmp_path):
    from orchestration.refresh import run_refresh

    settings = settings_for(tmp_path, tmp_path / "landing")
    write_landing(settings.landing, TINY)
    summary = run_refresh(settings)
    assert summary.success, summary.errors
    assert (summary.files_loaded, summary.files_rejected) == (3, 0)
    assert summary.rows_quarantined == 1  # S2's amount
    assert summary.models_built >= 30 and summary.tests_failed == 0 and summary.tests_passed > 50
    # every step's wall time, in the order the steps started
    assert list(summary.step_seconds)[:2] == ["ingest_landing", "crm_dbt_models"]
    assert "published_warehouse" in summary.step_seconds
    assert all(seconds >= 0 for seconds in summary.step_seconds.values())
    assert summary.step_seconds["crm_dbt_models"] > 1  # at least a dbt start and a build
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute(
            "select client_name, client_records from marts.dim_clients"
        ).fetchall() == [("Таня", 2)]
    # repeat.json + the two csv sections + clients.xlsx, rendered from the published marts
    assert summary.report_files == 4
    repeat = json.loads((settings.reports_dir / "repeat.json").read_text(encoding="utf-8"))
    assert repeat["params"]["from"] == "2000-01-01T00:00:00"
    assert repeat["totals"] == {
        "clients": 1,
        "deals": 1,
        "sales_total": 1500.5,
        "average_check": 1500.5,
    }
    assert stat.S_IMODE((settings.reports_dir / "clients.xlsx").stat().st_mode) == 0o600
    again = run_refresh(settings)
    assert again.success and again.files_loaded == 0 and again.files_already_ingested == 3
    # an incremental build leaves out the reference entities' models (unchanged), yet the
    # marts are published and the reports rendered as after any build
    assert "incremental" in (settings.state_dir / "dbt" / "last_plan.txt").read_text()
    assert "published_warehouse" in again.step_seconds and again.report_files == 4


def test_cli_refresh_prints_summary(tmp_path):
    settings = settings_for(tmp_path, tmp_path / "landing")
    write_landing(settings.landing, TINY)
    completed = subprocess.run(
        [
            str(Path(sys.executable).with_name("crm-analytics")),
            "refresh",
            "--landing",
            str(settings.landing),
            "--warehouse",
            str(settings.warehouse),
            "--reports-dir",
            str(settings.reports_dir),
            "--reports-config",
            str(settings.reports_config),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = completed.stdout.splitlines()
    assert "refresh ok" in lines
    assert "  files: 3 loaded, 0 duplicate, 0 rejected (0 already ingested)" in lines
    assert "  rows quarantined: 1 (value warnings: 0)" in lines
    assert any(line.startswith("  dbt: ") and " 0 failed" in line for line in lines)
    # the process skips freeing its objects at exit, not its exit handlers or its output
    assert "leaked" not in completed.stderr
    assert not list(settings.state_dir.rglob("*.wal"))
    assert not settings.warehouse.with_name(settings.warehouse.name + ".wal").exists()


def test_the_refresh_process_never_imports_dbt_core(tmp_path):
    # dbt runs in crm-dbt's process; dagster-dbt here works without dbt-core (0.9 s saved)
    settings = settings_for(tmp_path, tmp_path / "landing")
    write_landing(settings.landing, TINY)
    script = (
        "import sys\n"
        "from crm_analytics.cli import main\n"
        f"code = main(['refresh', '--landing', {str(settings.landing)!r}, '--warehouse', "
        f"{str(settings.warehouse)!r}, '--reports-dir', {str(settings.reports_dir)!r}, "
        f"'--reports-config', {str(settings.reports_config)!r}])\n"
        "loaded = sorted(m for m, v in sys.modules.items() if m.split('.')[0] == 'dbt' and v)\n"
        "print('dbt modules:', loaded)\n"
        "sys.exit(code)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "dbt modules: []" in completed.stdout.splitlines()
    assert "refresh ok" in completed.stdout.splitlines()


def test_cli_refresh_exit_code_survives_the_quick_exit(tmp_path):
    completed = subprocess.run(
        [
            str(Path(sys.executable).with_name("crm-analytics")),
            "refresh",
            "--landing",
            str(tmp_path / "missing"),
            "--warehouse",
            str(tmp_path / "warehouse.duckdb"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr == f"crm-analytics: landing folder not found: {tmp_path / 'missing'}\n"


def test_two_instances_never_share_state(tmp_path):
    from orchestration.refresh import run_refresh

    first = settings_for(tmp_path / "a", tmp_path / "landing_a")
    second = settings_for(tmp_path / "b", tmp_path / "landing_b")
    write_landing(first.landing, TINY)
    write_landing(second.landing, {**TINY, "clients": TINY["clients"][:1]})
    assert run_refresh(first).success and run_refresh(second).success
    assert first.state_dir != second.state_dir
    for settings, records in ((first, 2), (second, 1)):
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            assert con.execute("select sum(client_records) from marts.dim_clients").fetchone() == (
                records,
            )


def test_dagster_yaml_queues_one_run_limits_the_pool_and_retries(tmp_path, monkeypatch):
    import shutil

    from dagster import DagsterInstance

    from crm_analytics.contract import PROJECT_ROOT

    shutil.copy(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.chdir(tmp_path)  # its storage paths are relative to where Dagster starts
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.get() as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        config = instance.get_concurrency_config()
        assert config.run_queue_config.max_concurrent_runs == 1
        assert config.pool_config.default_pool_limit == 1
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2


def test_every_asset_runs_in_the_warehouse_pool_and_the_job_retries_only_crashes(defs):
    from orchestration.resources import WAREHOUSE_POOL

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.pools == {WAREHOUSE_POOL}, key
    job = defs.resolve_job_def("refresh")
    assert job.tags["dagster/max_retries"] == "2"
    assert job.tags["dagster/retry_on_asset_or_op_failure"] == "false"
    assert job.executor_def.name == "in_process"
