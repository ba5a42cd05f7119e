"""The pipeline's Dagster definitions: `dagster dev -m orchestration.definitions`."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster import (
    AssetSelection,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
)

from crm_analytics.config import Settings
from crm_analytics.report_config import load_config
from orchestration.assets.dbt import crm_dbt_models
from orchestration.assets.ingest import ingest_landing
from orchestration.assets.publish import published_warehouse
from orchestration.assets.reports import build_report_assets
from orchestration.checks import landing_freshness
from orchestration.dbt_resource import CrmDbtCliResource
from orchestration.project import crm_dbt_project
from orchestration.resources import PipelineSettings
from orchestration.sensors import landing_sensor

# Steps run in one process: a process per step would cost about a second each, and the
# pipeline resource (which holds the instance's refresh lock) is then set up once per run.
refresh_job = define_asset_job(
    "refresh",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Ingest new landed files, build and test the marts, publish, render reports.",
    # Run retries (dagster.yaml) re-launch a run that died of an infrastructure failure (a
    # crashed process, a lost worker); a failed step, such as a failing data test, is a real
    # failure and is not retried.
    tags={"dagster/max_retries": 2, "dagster/retry_on_asset_or_op_failure": False},
)

daily_refresh = ScheduleDefinition(
    name="daily_refresh", job=refresh_job, cron_schedule="0 6 * * *", execution_timezone="UTC"
)


def build_definitions(settings: Settings, lock_wait_seconds: float = 600.0) -> Definitions:
    return Definitions(
        assets=[
            ingest_landing,
            crm_dbt_models,
            published_warehouse,
            *build_report_assets(load_config(settings.reports_config)),
        ],
        asset_checks=[landing_freshness],
        jobs=[refresh_job],
        schedules=[daily_refresh],
        sensors=[landing_sensor],
        executor=in_process_executor,
        resources={
            "pipeline": PipelineSettings.from_settings(settings, lock_wait_seconds),
            "dbt": CrmDbtCliResource(
                project_dir=crm_dbt_project,
                profiles_dir=str(settings.ensure_dbt_profile()),
                # The dbt installed beside this interpreter, whatever PATH says, through
                # crm-dbt (dbt's own CLI with the garbage collector tuned: dbt_main.py).
                dbt_executable=str(Path(sys.executable).with_name("crm-dbt")),
            ),
        },
    )


defs = build_definitions(Settings.from_env())
