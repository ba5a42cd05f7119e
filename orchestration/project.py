"""The dbt project as Dagster sees it, and the manifest it needs before definitions load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from crm_analytics.contract import DBT_PROJECT_DIR

crm_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
# Under `dagster dev` / `dg dev` this re-parses on load; elsewhere ensure_manifest() does.
crm_dbt_project.prepare_if_dev()

_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _SOURCES:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else path.rglob("*")
        for file in files:
            if file.is_file():
                newest = max(newest, file.stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project's files."""
    manifest = crm_dbt_project.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime():
        return manifest
    dbt = Path(sys.executable).with_name("dbt")
    completed = subprocess.run(
        [str(dbt), "parse", "--quiet", "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")
    return manifest
