"""Configuration of one pipeline instance as a Dagster resource."""

from __future__ import annotations

from dagster import ConfigurableResource

from crm_analytics.config import Settings


class PipelineSettings(ConfigurableResource):
    landing: str
    warehouse: str
    reports_dir: str
    reports_config: str

    @classmethod
    def from_settings(cls, settings: Settings) -> PipelineSettings:
        return cls(
            landing=str(settings.landing),
            warehouse=str(settings.warehouse),
            reports_dir=str(settings.reports_dir),
            reports_config=str(settings.reports_config),
        )

    def settings(self) -> Settings:
        return Settings.from_env(
            self.landing, self.warehouse, self.reports_dir, self.reports_config
        )
