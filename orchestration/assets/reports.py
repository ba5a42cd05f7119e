"""Report file assets: one per instance of reports.yaml, rendered after each publish."""

from datetime import datetime

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from crm_analytics.report_config import ReportConfig, ReportInstance, render_instance
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings


def build_report_assets(config: ReportConfig) -> list[AssetsDefinition]:
    return [_report_asset(instance, config.anchor) for instance in config.instances]


def _report_asset(instance: ReportInstance, anchor: str) -> AssetsDefinition:
    @asset(
        key=AssetKey(["reports", instance.name]),
        group_name="reports",
        pool=WAREHOUSE_POOL,
        deps=[AssetKey("published_warehouse")],
        description=f"{instance.report} ({instance.period or 'no period'}) as "
        f"{', '.join(instance.formats)} for the {instance.role} role.",
        tags={"report": instance.report},
    )
    def _render(context: AssetExecutionContext, pipeline: PipelineSettings) -> MaterializeResult:
        settings = pipeline.settings()
        rendered = render_instance(
            instance,
            settings.warehouse,
            settings.reports_dir,
            anchor,
            datetime.now().replace(microsecond=0),
        )
        # Paths and counts only: contact data never reaches event metadata.
        metadata: dict = {
            "files": [str(path) for path in rendered.files],
            **{f"rows.{key}": count for key, count in rendered.row_counts.items()},
        }
        if rendered.period:
            metadata["period"] = " - ".join(
                p.isoformat(timespec="minutes") for p in rendered.period
            )
        return MaterializeResult(metadata=metadata)

    return _render
