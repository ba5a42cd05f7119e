"""Ingestion assets: the landing folder into the raw zone, one asset per entity."""

from collections import Counter

import duckdb
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from crm_analytics.contract import ENTITY_NAMES
from crm_analytics.ingest import ingest, write_raw_views
from orchestration.resources import WAREHOUSE_POOL, PipelineSettings

RAW_KEYS = {entity: AssetKey(["raw", entity]) for entity in ENTITY_NAMES}
LEDGER_KEY = AssetKey(["raw", "ingested_files"])


@multi_asset(
    name="ingest_landing",
    pool=WAREHOUSE_POOL,
    group_name="raw",
    specs=[
        *(
            AssetSpec(key, description=f"Landed {entity} extracts in the raw zone (text values).")
            for entity, key in RAW_KEYS.items()
        ),
        AssetSpec(
            LEDGER_KEY, description="Ledger of every landed file: loaded/duplicate/rejected."
        ),
    ],
)
def ingest_landing(context: AssetExecutionContext, pipeline: PipelineSettings):
    settings = pipeline.settings()
    result = ingest(settings.landing, settings.state_dir)
    settings.work_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.work_db)) as con:
        write_raw_views(con, settings.state_dir)

    ledger = result.ledger()
    # Only names, counts and reasons reach event metadata: never cell values (contact data).
    for warning in result.warnings:
        context.log.warning(warning)
    per_entity = {entity: Counter() for entity in ENTITY_NAMES}
    for record in ledger:
        per_entity[record.entity][record.status] += 1
        per_entity[record.entity]["rows_read"] += (
            record.rows_read if record.status == "loaded" else 0
        )
    for entity, key in RAW_KEYS.items():
        counts = per_entity[entity]
        yield MaterializeResult(
            asset_key=key,
            metadata={
                "files_loaded": counts["loaded"],
                "files_duplicate": counts["duplicate"],
                "files_rejected": counts["rejected"],
                "rows_read": counts["rows_read"],
            },
        )
    yield MaterializeResult(
        asset_key=LEDGER_KEY,
        metadata={
            "new_files_loaded": len(result.loaded),
            "new_files_duplicate": len(result.duplicates),
            "new_files_rejected": len(result.rejected),
            "files_already_ingested": result.skipped,
            "files_ignored": len(result.ignored),
        },
    )
