"""A sensor on the landing folder: one refresh per batch of new files."""

import hashlib
import time

from dagster import RunRequest, SensorEvaluationContext, SkipReason, sensor

from crm_analytics.ingest import pending_files
from orchestration.resources import PipelineSettings

# Files still being copied keep changing; wait until the newest one has been quiet this long.
SETTLE_SECONDS = 30


@sensor(job_name="refresh", minimum_interval_seconds=60)
def landing_sensor(context: SensorEvaluationContext, pipeline: PipelineSettings):
    settings = pipeline.settings()
    if not settings.landing.is_dir():
        return SkipReason(f"landing folder {settings.landing} does not exist")
    pending = pending_files(settings.landing, settings.state_dir)
    if not pending:
        return SkipReason("no new files in the landing folder")
    newest = max(landed.mtime_ns for landed in pending) / 1e9
    if time.time() - newest < SETTLE_SECONDS:
        return SkipReason(f"{len(pending)} new file(s) still settling")
    # The run key names exactly this batch: the same files never trigger a second run.
    batch = "\n".join(f"{f.entity}/{f.name}:{f.size}:{f.mtime_ns}" for f in pending)
    run_key = hashlib.sha256(batch.encode("utf-8")).hexdigest()
    return RunRequest(run_key=run_key, tags={"crm/new_files": str(len(pending))})
