"""Configuration of one pipeline instance as a Dagster resource."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource, InitResourceContext

from crm_analytics.config import Settings
from crm_analytics.locking import refresh_lock

# Every asset that touches an instance's files runs in this Dagster concurrency pool, limited
# to 1 in dagster.yaml: steps of two runs never interleave, even before the lock is reached.
WAREHOUSE_POOL = "crm_warehouse"


class PipelineSettings(ConfigurableResource):
    landing: str
    warehouse: str
    reports_dir: str
    reports_config: str
    # The landing freshness check fails when the newest extract is older than this.
    max_extract_age_hours: float = float(os.environ.get("CRM_MAX_EXTRACT_AGE_HOURS", "36"))
    # How long a run waits for another refresh of the same instance before failing.
    lock_wait_seconds: float = 600.0

    @classmethod
    def from_settings(
        cls, settings: Settings, lock_wait_seconds: float = 600.0
    ) -> PipelineSettings:
        return cls(
            lock_wait_seconds=lock_wait_seconds,
            landing=str(settings.landing),
            warehouse=str(settings.warehouse),
            reports_dir=str(settings.reports_dir),
            reports_config=str(settings.reports_config),
        )

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[PipelineSettings]:
        # Every step of a run uses this resource, and the in-process executor initialises it
        # once per run: the instance's refresh lock is held for the whole run, so two runs
        # (CLI, schedule, sensor or UI) never write the same warehouse at once.
        with refresh_lock(
            self.settings().state_dir,
            wait_seconds=self.lock_wait_seconds,
            on_wait=lambda message: print(f"crm-analytics: {message}", file=sys.stderr),
        ):
            yield self

    def settings(self) -> Settings:
        return Settings.from_env(
            self.landing, self.warehouse, self.reports_dir, self.reports_config
        )
