"""Build a real warehouse from hand-written extracts: ingestion, `dbt build`, publish.

Report and mart tests describe their fixture as {entity: [row dicts]}; this writes the rows as
CSV landing files, runs the real pipeline pieces (no Dagster, to stay fast) and returns the
published DuckDB file.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from crm_analytics.build_plan import BuildPlan, build_args, prepare_build, record_build
from crm_analytics.config import Settings
from crm_analytics.contract import DBT_PROJECT_DIR, entities
from crm_analytics.ingest import ingest, write_raw_views
from crm_analytics.publish import publish

DEFAULT_UPDATED_AT = "2025-01-01 00:00"


def write_landing(
    landing: Path,
    extracts: Mapping[str, Iterable[Mapping[str, Any]]],
    file_name: str = "extract.csv",
) -> None:
    """One CSV per entity with every contract column; updated_at defaults to a fixed time."""
    for entity, rows in extracts.items():
        columns = list(entities()[entity].column_names)
        folder = landing / entity
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / file_name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                unknown = set(row) - set(columns)
                assert not unknown, f"{entity}: not contract columns: {unknown}"
                writer.writerow({"updated_at": DEFAULT_UPDATED_AT, **row})


def run_dbt(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    dbt = Path(sys.executable).with_name("dbt")
    completed = subprocess.run(
        [
            str(dbt),
            *args,
            "--profiles-dir",
            str(settings.ensure_dbt_profile()),
            "--target-path",
            str(settings.dbt_target_dir),
        ],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{completed.stdout[-6000:]}")
    return completed


def build_warehouse(root: Path, extracts: Mapping[str, Iterable[Mapping[str, Any]]]) -> Path:
    """Landing -> raw zone -> dbt build (models and data tests) -> published warehouse."""
    settings = Settings(
        landing=root / "landing", warehouse=root / "warehouse.duckdb", reports_dir=root / "reports"
    )
    write_landing(settings.landing, extracts)
    refresh(settings)
    return settings.warehouse


def refresh(settings: Settings) -> BuildPlan:
    ingest(settings.landing, settings.state_dir)
    settings.work_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.work_db)) as con:
        write_raw_views(con, settings.state_dir)
    plan = prepare_build(settings)
    # as the refresh does: the project's manifest (here the previous build's) picks the tests
    # an incremental build can leave out
    manifest_path = settings.dbt_target_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    run_dbt(settings, *build_args(plan, manifest))
    record_build(settings.state_dir)
    publish(settings.serving_db, settings.warehouse)
    return plan
