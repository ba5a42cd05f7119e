"""The project's own generic data tests, run by real dbt on a tiny project of their own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crm_analytics.contract import DBT_PROJECT_DIR
from crm_analytics.dbt_main import WARM_SOCKET_ENV

pytestmark = pytest.mark.slow

DBT = str(Path(sys.executable).with_name("dbt"))


def _failures(root: Path, rows: str) -> int:
    (root / "models").mkdir(parents=True)
    shutil.copytree(DBT_PROJECT_DIR / "tests" / "generic", root / "tests" / "generic")
    (root / "dbt_project.yml").write_text(
        "name: keys\nversion: '1.0.0'\nconfig-version: 2\nprofile: keys\n", encoding="utf-8"
    )
    (root / "profiles.yml").write_text(
        "keys:\n  target: t\n  outputs:\n    t:\n      type: duckdb\n"
        f"      path: {root / 'keys.duckdb'}\n      threads: 1\n",
        encoding="utf-8",
    )
    (root / "models" / "things.sql").write_text(
        f"select * from (values {rows}) as t(thing_id)\n", encoding="utf-8"
    )
    (root / "models" / "schema.yml").write_text(
        "version: 2\nmodels:\n  - name: things\n    columns:\n      - name: thing_id\n"
        "        data_tests: [primary_key]\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != WARM_SOCKET_ENV}
    subprocess.run(
        [DBT, "build", "--profiles-dir", str(root), "--project-dir", str(root)],
        cwd=root,
        env=env,
        capture_output=True,
        check=False,
    )
    results = json.loads((root / "target" / "run_results.json").read_text(encoding="utf-8"))
    (test,) = [r for r in results["results"] if r["unique_id"].startswith("test.")]
    return test["failures"]


def test_primary_key_passes_distinct_values(tmp_path):
    assert _failures(tmp_path, "('a'), ('b'), ('c')") == 0


def test_primary_key_fails_on_a_repeated_value_and_on_null(tmp_path):
    # a twice and a null: two failing groups
    assert _failures(tmp_path, "('a'), ('b'), ('a'), (null)") == 2
