"""Landing freshness: fails when the newest extract is older than the configured age."""

from datetime import UTC, datetime

from dagster import AssetCheckResult, AssetCheckSeverity, asset_check

from crm_analytics.ingest import ledger_records
from orchestration.assets.ingest import LEDGER_KEY
from orchestration.resources import PipelineSettings


@asset_check(asset=LEDGER_KEY, name="landing_freshness", blocking=False)
def landing_freshness(pipeline: PipelineSettings) -> AssetCheckResult:
    settings = pipeline.settings()
    limit_hours = pipeline.max_extract_age_hours
    stamps = [r.file_mtime_ns for r in ledger_records(settings.state_dir) if r.status != "rejected"]
    if not stamps:
        return AssetCheckResult(
            passed=False,
            severity=AssetCheckSeverity.WARN,
            description="no extract has been landed yet",
        )
    newest = datetime.fromtimestamp(max(stamps) / 1e9, UTC)
    age_hours = (datetime.now(UTC) - newest).total_seconds() / 3600
    return AssetCheckResult(
        passed=age_hours <= limit_hours,
        severity=AssetCheckSeverity.WARN,
        description=f"newest extract landed {age_hours:.1f} h ago (limit {limit_hours:g} h)",
        metadata={
            "newest_extract_at": newest.isoformat(timespec="seconds"),
            "age_hours": round(age_hours, 2),
            "limit_hours": limit_hours,
        },
    )
