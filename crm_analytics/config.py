"""Where one pipeline instance reads and writes: landing, published warehouse, its state, reports.

Everything an instance owns lives beside the warehouse it names (`<stem>_state/`), so two
instances with different warehouses never share or mix anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from crm_analytics.contract import DBT_PROJECT_DIR, PROJECT_ROOT

DEFAULT_LANDING = PROJECT_ROOT / "seeds" / "sample"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "var" / "warehouse.duckdb"
DEFAULT_REPORTS_DIR = PROJECT_ROOT / "var" / "reports"
DEFAULT_REPORTS_CONFIG = PROJECT_ROOT / "reports.yaml"


def duckdb_settings() -> dict[str, str]:
    """DuckDB settings of the pipeline's own connections (reports), from the variables that
    also set dbt's: the memory limit defaults to dbt's 3GB, threads to DuckDB's default."""
    settings = {"memory_limit": os.environ.get("CRM_DUCKDB_MEMORY_LIMIT", "3GB")}
    threads = os.environ.get("CRM_DUCKDB_THREADS")
    if threads:
        settings["threads"] = threads
    return settings


@dataclass(frozen=True)
class Settings:
    landing: Path
    warehouse: Path  # the published serving file that BI tools and `report` read
    reports_dir: Path
    reports_config: Path = DEFAULT_REPORTS_CONFIG  # the report files each refresh renders

    @classmethod
    def from_env(
        cls,
        landing: str | os.PathLike[str] | None = None,
        warehouse: str | os.PathLike[str] | None = None,
        reports_dir: str | os.PathLike[str] | None = None,
        reports_config: str | os.PathLike[str] | None = None,
    ) -> Settings:
        """Explicit arguments win, then CRM_LANDING / CRM_WAREHOUSE / CRM_REPORTS_DIR /
        CRM_REPORTS_CONFIG."""

        def pick(value: object, env: str, default: Path) -> Path:
            chosen = value if value is not None else os.environ.get(env) or default
            return Path(chosen).expanduser().resolve()

        return cls(
            landing=pick(landing, "CRM_LANDING", DEFAULT_LANDING),
            warehouse=pick(warehouse, "CRM_WAREHOUSE", DEFAULT_WAREHOUSE),
            reports_dir=pick(reports_dir, "CRM_REPORTS_DIR", DEFAULT_REPORTS_DIR),
            reports_config=pick(reports_config, "CRM_REPORTS_CONFIG", DEFAULT_REPORTS_CONFIG),
        )

    @property
    def state_dir(self) -> Path:
        return self.warehouse.with_name(self.warehouse.stem + "_state")

    @property
    def work_db(self) -> Path:
        """The working warehouse dbt builds into; never read by BI tools."""
        return self.state_dir / "work.duckdb"

    @property
    def serving_db(self) -> Path:
        """Where dbt builds the marts and audit tables; publishing copies it whole."""
        return self.state_dir / "serving.duckdb"

    @property
    def dbt_profiles_dir(self) -> Path:
        return self.state_dir / "dbt"

    @property
    def dbt_target_dir(self) -> Path:
        return self.state_dir / "dbt" / "target"

    def ensure_dbt_profile(self) -> Path:
        """Write this instance's dbt profile (pointing at its working warehouse)."""
        self.dbt_profiles_dir.mkdir(parents=True, exist_ok=True)
        profile = self.dbt_profiles_dir / "profiles.yml"
        doc = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
        output = doc["crm_analytics"]["outputs"]["duckdb"]
        output["path"] = str(self.work_db)
        output["attach"][0]["path"] = str(self.serving_db)
        text = yaml.safe_dump(doc, sort_keys=False)
        if not profile.exists() or profile.read_text(encoding="utf-8") != text:
            profile.write_text(text, encoding="utf-8")
        return self.dbt_profiles_dir
