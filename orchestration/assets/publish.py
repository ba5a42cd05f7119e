"""Publish the audited marts to the serving warehouse (write-audit-publish)."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from crm_analytics.publish import publish
from orchestration.assets.dbt import crm_dbt_models
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings

PUBLISHED_MODEL_PREFIXES = ("dim_", "fct_", "rpt_", "audit_")


@asset(
    key=AssetKey("published_warehouse"),
    group_name="serving",
    pool=WAREHOUSE_POOL,
    deps=[key for key in crm_dbt_models.keys if key.path[-1].startswith(PUBLISHED_MODEL_PREFIXES)],
    description="The serving DuckDB file (marts and audit tables) that BI tools and reports read.",
)
def published_warehouse(context: AssetExecutionContext, pipeline: PipelineSettings):
    settings = pipeline.settings()
    result = publish(settings.serving_db, settings.warehouse)
    context.log.info(f"published {len(result.tables)} tables to {result.warehouse}")
    return MaterializeResult(
        metadata={
            "path": str(result.warehouse),
            **{f"rows.{name}": count for name, count in sorted(result.tables.items())},
        }
    )
