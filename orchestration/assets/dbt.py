"""The dbt project as assets: one `dbt build` per refresh (models, seeds, tests, unit tests)."""

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.project import crm_dbt_project
from orchestration.resources import PipelineSettings
from orchestration.translator import CrmDbtTranslator


@dbt_assets(
    manifest=crm_dbt_project.manifest_path,
    project=crm_dbt_project,
    dagster_dbt_translator=CrmDbtTranslator(),
)
def crm_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, pipeline: PipelineSettings):
    # One invocation builds and tests everything in DAG order: a failing test stops its
    # downstream models and fails the step, so nothing untested gets published. A fixed
    # per-instance target path keeps dbt's partial parsing warm between refreshes.
    target_path = pipeline.settings().dbt_target_dir
    # Unit tests check the code, not the data: they run in the test suite, not per refresh.
    yield from dbt.cli(
        ["build", "--exclude", "test_type:unit"], context=context, target_path=target_path
    ).stream()
