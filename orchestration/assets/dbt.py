"""The dbt project as assets: one `dbt build` per refresh (models, seeds, data tests)."""

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dagster import AssetExecutionContext, MaterializeResult, Output
from dagster_dbt import DbtCliResource, dbt_assets

from crm_analytics import build_schedule
from crm_analytics.build_plan import (
    THREADS_ENV,
    build_args,
    build_threads,
    loaded_rows,
    prepare_build,
    record_build,
    unchanged_nodes,
)
from crm_analytics.dbt_main import NO_TEST_GATES_ENV
from crm_analytics.locking import dbt_pid_file
from orchestration.project import crm_dbt_project
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings
from orchestration.translator import CrmDbtTranslator


@dbt_assets(
    manifest=crm_dbt_project.manifest_path,
    project=crm_dbt_project,
    dagster_dbt_translator=CrmDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def crm_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, pipeline: PipelineSettings):
    # One invocation builds and tests everything in DAG order: a failing test stops its
    # downstream models and fails the step, so nothing untested gets published. A fixed
    # per-instance target path keeps dbt's partial parsing warm between refreshes.
    settings = pipeline.settings()
    whole_project = not context.is_subset
    plan = prepare_build(settings, whole_project=whole_project)
    context.log.info(f"dbt build: {'full' if plan.full_refresh else 'incremental'} ({plan.reason})")
    manifest = json.loads(crm_dbt_project.manifest_path.read_bytes())
    kind = build_schedule.FULL if plan.full_refresh else build_schedule.INCREMENTAL
    build_schedule.schedule_build(
        settings.state_dir,
        settings.dbt_target_dir,
        manifest,
        kind,
        lambda: loaded_rows(settings.state_dir),
    )
    # the threads of a full build depend on its size (build_threads)
    threads = build_threads(plan, sum(loaded_rows(settings.state_dir).values()))
    started = time.time()
    # Tests run beside the models rather than as gates before their children: the refresh
    # publishes only after the whole build passed (crm_analytics/dbt_main.py).
    with _environ(NO_TEST_GATES_ENV, "1"), _environ(THREADS_ENV, threads):
        invocation = dbt.cli(
            build_args(plan, manifest), context=context, target_path=settings.dbt_target_dir
        )
    # If this process is killed, the next refresh stops the dbt it leaves running.
    pid_file = dbt_pid_file(settings.state_dir)
    pid_file.write_text(f"{invocation.process.pid}\n", encoding="ascii")
    try:
        if not plan.full_refresh:
            yield from _unchanged_results(context, manifest)
        for event in invocation.stream():
            if isinstance(event, Output):
                # dbt has already stored the model: as an Output it would still go through
                # a type check and the IO manager, three run events per model where one
                # materialization says the same (about 1 s of a one-day refresh).
                yield MaterializeResult(
                    asset_key=context.asset_key_for_output(event.output_name),
                    metadata=event.metadata,
                )
            else:
                yield event
    finally:
        pid_file.unlink(missing_ok=True)
    build_schedule.record_build_times(settings.state_dir, settings.dbt_target_dir, kind, started)
    if whole_project and invocation.is_successful():
        record_build(settings.state_dir)


def _unchanged_results(
    context: AssetExecutionContext, manifest: Mapping[str, Any]
) -> Iterator[MaterializeResult]:
    """The models and seeds an incremental build leaves out as unchanged reach the new serving
    file as they are (it is a copy of the published one): reported first, parents before
    children as Dagster requires, so that publishing and the reports run as after any build."""
    translator = CrmDbtTranslator()
    unchanged = [u for u in unchanged_nodes(manifest) if u.startswith(("model.", "seed."))]
    reported: set[str] = set()
    while len(reported) < len(unchanged):
        for unique_id in unchanged:
            node = manifest["nodes"][unique_id]
            parents = set(node["depends_on"].get("nodes", [])) & set(unchanged)
            if unique_id in reported or not parents <= reported:
                continue
            reported.add(unique_id)
            asset_key = translator.get_asset_key(node)
            if asset_key in context.selected_asset_keys:
                yield MaterializeResult(
                    asset_key=asset_key,
                    metadata={"dbt": "not rebuilt: its inputs are as the last build left them"},
                )


@contextmanager
def _environ(name: str, value: str | None) -> Iterator[None]:
    """The variable set for the processes started in the block (dbt's, here); None leaves it
    as it is."""
    if value is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before
