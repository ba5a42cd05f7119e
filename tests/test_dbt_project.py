"""The dbt project's own tests: every unit test (value formats, versions, identity and
attribute rules) and data test, run by real dbt on an empty landing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import yaml

from crm_analytics.config import Settings
from crm_analytics.contract import DBT_PROJECT_DIR, ENTITY_NAMES, entities
from crm_analytics.ingest import ingest, write_raw_views
from tests.pipeline import run_dbt


def test_dbt_build_with_unit_tests_passes(tmp_path):
    settings = Settings(
        landing=tmp_path / "landing",
        warehouse=tmp_path / "wh.duckdb",
        reports_dir=tmp_path / "reports",
    )
    settings.landing.mkdir()
    ingest(settings.landing, settings.state_dir)
    settings.work_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.work_db)) as con:
        write_raw_views(con, settings.state_dir)
    run_dbt(settings, "build")
    results = json.loads((settings.dbt_target_dir / "run_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit) >= 20
    # exposures report no-op
    assert {r["status"] for r in results} <= {"success", "pass", "no-op"}


def test_sources_are_the_contract_entities():
    sources = yaml.safe_load(
        (DBT_PROJECT_DIR / "models/staging/crm/_crm__sources.yml").read_text(encoding="utf-8")
    )
    tables = [t["name"] for t in sources["sources"][0]["tables"]]
    assert tables == [*ENTITY_NAMES, "ingested_files"]
    assert tuple(entities()) == ENTITY_NAMES


def test_every_entity_has_a_key_and_updated_at():
    for entity in entities().values():
        required = entity.required_columns
        assert entity.key in required and "updated_at" in required, entity.name


def test_crm_dbt_runs_dbt_and_exits_quietly():
    # The refresh runs dbt through crm-dbt (dbt with the garbage collector tuned): the same
    # commands, and no leak report from frozen objects on the way out.
    crm_dbt = Path(sys.executable).with_name("crm-dbt")
    completed = subprocess.run(
        [str(crm_dbt), "ls", "--resource-type", "seed", "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "crm_analytics.iana_timezones" in completed.stdout
    assert "leaked" not in completed.stderr
