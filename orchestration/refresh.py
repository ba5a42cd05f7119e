"""Run the refresh job in-process for one pipeline instance and summarise what it did."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
from dagster import DagsterEventType, DagsterInstance

from crm_analytics.build_plan import plan_path
from crm_analytics.config import Settings
from crm_analytics.locking import refresh_lock
from orchestration.project import ensure_manifest


@dataclass
class RefreshSummary:
    success: bool
    files_loaded: int = 0
    files_duplicate: int = 0
    files_rejected: int = 0
    files_already_ingested: int = 0
    rows_quarantined: int = 0
    value_warnings: int = 0
    models_built: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    build: str | None = None  # "full: why" or "incremental: why" when dbt ran
    step_seconds: dict[str, float] = field(default_factory=dict)
    published: str | None = None
    report_files: int = 0
    log: str | None = None
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        status = "ok" if self.success else "FAILED"
        out = [
            f"refresh {status}",
            f"  files: {self.files_loaded} loaded, {self.files_duplicate} duplicate, "
            f"{self.files_rejected} rejected ({self.files_already_ingested} already ingested)",
            f"  rows quarantined: {self.rows_quarantined} (value warnings: {self.value_warnings})",
            f"  dbt: {self.models_built} models built, {self.tests_passed} tests passed, "
            f"{self.tests_failed} failed",
        ]
        if self.build:
            out.append(f"  build: {self.build}")
        if self.step_seconds:
            steps = ", ".join(f"{k} {v:.1f}s" for k, v in self.step_seconds.items())
            out.append(f"  steps: {steps}")
        if self.published:
            out.append(f"  published: {self.published}")
        out.append(f"  report files: {self.report_files}")
        out.extend(f"  error: {error}" for error in self.errors)
        if self.log:
            out.append(f"  log: {self.log}")
        return out


def run_refresh(settings: Settings, lock_wait_seconds: float = 600.0) -> RefreshSummary:
    """Raises RefreshBusy when another refresh of the instance holds its lock past the wait."""
    # Held for the whole run (the pipeline resource's own acquisition is then a no-op): no
    # window between a check and the run in which a second refresh could slip in.
    with refresh_lock(
        settings.state_dir,
        wait_seconds=lock_wait_seconds,
        on_wait=lambda message: print(f"crm-analytics: {message}", file=sys.stderr),
    ):
        return _run(settings, lock_wait_seconds)


def _run(settings: Settings, lock_wait_seconds: float) -> RefreshSummary:
    ensure_manifest()
    # Imported late: loading the dbt assets needs the manifest that ensure_manifest() writes.
    from orchestration.definitions import build_definitions

    defs = build_definitions(settings, lock_wait_seconds)
    job = defs.resolve_job_def("refresh")
    # The CLI prints its own summary: Dagster's console logger only reports warnings, and
    # the dbt event stream dagster-dbt echoes to stdout goes to a per-run log file.
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    log_dir = settings.state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"refresh-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"
    plan_file = plan_path(settings.state_dir)
    plan_file.unlink(missing_ok=True)
    with (
        open(log_path, "w", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
        contextlib.ExitStack() as stack,
    ):
        instance = (
            DagsterInstance.get()
            if os.environ.get("DAGSTER_HOME")
            else stack.enter_context(DagsterInstance.ephemeral())
        )
        # Dagster, dagster-dbt and the definitions are loaded for good now: the garbage
        # collector need not traverse them on every collection the run's events trigger
        # (about 1 s of a one-day refresh at 10M rows). Unfrozen after, or nanobind
        # (duckdb) reports the never-freed objects as leaks at exit.
        gc.freeze()
        try:
            result = job.execute_in_process(
                instance=instance, run_config=run_config, raise_on_error=False
            )
        finally:
            gc.unfreeze()
        step_seconds = _step_seconds(instance, result.run_id)
    summary = _summarise(settings, result)
    summary.step_seconds = step_seconds
    summary.log = str(log_path)
    if plan_file.exists():
        summary.build = plan_file.read_text(encoding="utf-8").strip()
    return summary


def _step_seconds(instance: DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall time of each step, in the order steps started."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    # only the step events: reading back all of a run's events costs 0.3 s
    step_events = {
        DagsterEventType.STEP_START,
        DagsterEventType.STEP_SUCCESS,
        DagsterEventType.STEP_FAILURE,
    }
    records = instance.get_records_for_run(run_id, of_type=step_events).records
    for entry in (record.event_log_entry for record in records):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            started[entry.step_key] = entry.timestamp
        elif entry.step_key in started and event.event_type in (
            DagsterEventType.STEP_SUCCESS,
            DagsterEventType.STEP_FAILURE,
        ):
            seconds[entry.step_key] = entry.timestamp - started[entry.step_key]
    return seconds


def _summarise(settings: Settings, result) -> RefreshSummary:
    summary = RefreshSummary(success=result.success)
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            key = materialization.asset_key.path
            metadata = {k: v.value for k, v in materialization.metadata.items()}
            if key == ["raw", "ingested_files"]:
                summary.files_loaded = metadata["new_files_loaded"]
                summary.files_duplicate = metadata["new_files_duplicate"]
                summary.files_rejected = metadata["new_files_rejected"]
                summary.files_already_ingested = metadata["files_already_ingested"]
            elif key == ["published_warehouse"]:
                summary.published = metadata["path"]
            elif key[0] == "reports":
                summary.report_files += len(metadata["files"])
            elif key[0] != "raw":
                summary.models_built += 1
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            if event.event_specific_data.passed:
                summary.tests_passed += 1
            else:
                summary.tests_failed += 1
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            summary.errors.append(
                f"{event.step_key}: {_root_cause(event.event_specific_data.error)}"
            )
    # the serving file when the build did not get published, else what was
    audited = settings.serving_db if settings.serving_db.exists() else settings.warehouse
    if audited.exists():
        with duckdb.connect(str(audited), read_only=True) as con:
            summary.rows_quarantined, summary.value_warnings = _audit_counts(con)
    return summary


_FAILURES = (
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.RESOURCE_INIT_FAILURE,
    DagsterEventType.RUN_FAILURE,
)


def _root_cause(error) -> str:
    """The innermost error message: Dagster wraps user errors in its own step error."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[-1] if error else "unknown error"


def _audit_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    try:
        (quarantined,) = con.execute(
            "select count(*) from (select distinct entity, file_name, row_number "
            "from audit.audit_quarantined_rows)"
        ).fetchone()
        (warnings,) = con.execute("select count(*) from audit.audit_value_warnings").fetchone()
    except duckdb.CatalogException:
        return 0, 0
    return int(quarantined), int(warnings)
