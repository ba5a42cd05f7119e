"""Whether the next dbt build may be incremental, and the record that makes it safe.

The incremental models take only what was added since the last build: new raw files, and the
keys their rows touch. That is exact only when nothing else changed, so every other case
rebuilds from scratch. A build is incremental when all of these hold:

- the previous build of this working warehouse succeeded and built every model (its record,
  written after success and removed before each build, is present);
- the dbt project (models, macros, seeds, tests) and the engine versions are unchanged;
- every raw file loaded then is still loaded, under the same name and content (files only
  added: no changed content, no lexically smaller duplicate taking over a file's rows);
- no new file of a small reference entity arrived (locations, specialists, promotions, promo
  codes): a location's time zone changes the UTC instant, and so the version order, of every
  row of that location; the others reach many fact rows the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from crm_analytics.config import Settings
from crm_analytics.contract import DBT_PROJECT_DIR
from crm_analytics.ingest import ledger
from crm_analytics.ingest.ledger import LOADED
from crm_analytics.ingest.views import write_new_file_views
from crm_analytics.publish import discard_serving, restore_serving

RECORD_NAME = "last_build.json"
# From this many raw rows on, each large model of a full build keeps all of DuckDB's threads
# busy by itself: a second dbt thread only makes two of them contend for the same cores (at
# 10M realizations two threads cost a full build 3-5 % more time and 6-10 % more CPU). Below
# it, dbt's own time per node dominates, and two threads hide it.
SINGLE_THREAD_FULL_BUILD_ROWS = 5_000_000
THREADS_ENV = "CRM_DBT_THREADS"
_PROJECT_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml")
_ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
# Small reference entities whose change reinterprets many rows of others: a full rebuild is the
# simple exact answer, and they change seldom.
_WHY_FULL = {
    "locations": "time zones may have changed every local time",
    "specialists": "names appear in attributed sales",
    "promotions": "promotion types appear in appointments and visits",
    "promo_codes": "codes give activations their location and time zone",
}
_FULL_REBUILD_ENTITIES = frozenset(_WHY_FULL)


@dataclass(frozen=True)
class BuildPlan:
    full_refresh: bool
    reason: str
    # entity -> loaded files an incremental build parses (raw_new.<entity>); empty when full
    new_files: dict[str, set[str]] = field(default_factory=dict)


def record_path(state_dir: Path) -> Path:
    return state_dir / "dbt" / RECORD_NAME


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    digest = hashlib.sha256()
    for name in _PROJECT_SOURCES:
        path = project_dir / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            digest.update(str(file.relative_to(project_dir)).encode() + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    for package in _ENGINE_PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}\0".encode())
    return digest.hexdigest()


def loaded_files(state_dir: Path) -> dict[str, dict[str, str]]:
    """entity -> {file name -> content hash} of every loaded raw file."""
    files: dict[str, dict[str, str]] = {}
    for record in ledger.load_all(state_dir):
        if record.status == LOADED:
            files.setdefault(record.entity, {})[record.file_name] = record.file_hash
    return files


def loaded_rows(state_dir: Path) -> dict[str, int]:
    """entity -> rows of its loaded raw files."""
    rows: dict[str, int] = {}
    for record in ledger.load_all(state_dir):
        if record.status == LOADED:
            rows[record.entity] = rows.get(record.entity, 0) + record.rows_read
    return rows


def plan_build(state_dir: Path, work_db: Path) -> BuildPlan:
    path = record_path(state_dir)
    if not work_db.exists():
        return BuildPlan(True, "no working warehouse yet")
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return BuildPlan(True, "no record of a complete previous build")
    except (OSError, ValueError):
        return BuildPlan(True, "the previous build's record is unreadable")
    if previous.get("project") != project_fingerprint():
        return BuildPlan(True, "the dbt project or engine changed")
    now = loaded_files(state_dir)
    before: dict[str, dict[str, str]] = previous.get("files", {})
    for entity, files in before.items():
        current = now.get(entity, {})
        for name, file_hash in files.items():
            if current.get(name) != file_hash:
                return BuildPlan(True, f"{entity}/{name} is no longer loaded as before")
    new_files = {entity: set(files) - set(before.get(entity, {})) for entity, files in now.items()}
    for entity in sorted(_FULL_REBUILD_ENTITIES):
        if new_files.get(entity):
            return BuildPlan(True, f"new {entity} extract: {_WHY_FULL[entity]}")
    added = sum(len(files) for files in new_files.values())
    return BuildPlan(False, f"{added} new files since the last build", new_files)


def forget_build(state_dir: Path) -> None:
    """Called before a build: one that dies or fails leaves no record, so the next is full."""
    record_path(state_dir).unlink(missing_ok=True)


def prepare_build(settings: Settings, *, whole_project: bool = True) -> BuildPlan:
    """Decide the build, forget the previous record, and give dbt its serving database: none
    before a full build of the whole project (so it holds no leftovers of renamed or removed
    models), else a copy of the published one to update. A build of a selection only is
    always full and never recorded as complete."""
    plan = plan_build(settings.state_dir, settings.work_db)
    if not whole_project:
        plan = BuildPlan(True, "a selection of models was requested")
    if plan.full_refresh and whole_project:
        discard_serving(settings.serving_db)
    elif not restore_serving(settings.serving_db, settings.warehouse):
        # the marts an incremental build would update are gone
        plan = BuildPlan(True, "no published warehouse to build on")
    forget_build(settings.state_dir)
    with duckdb.connect(str(settings.work_db)) as con:
        write_new_file_views(con, settings.state_dir, plan.new_files)
    plan_path(settings.state_dir).parent.mkdir(parents=True, exist_ok=True)
    plan_path(settings.state_dir).write_text(
        f"{'full' if plan.full_refresh else 'incremental'}: {plan.reason}\n", encoding="utf-8"
    )
    return plan


def plan_path(state_dir: Path) -> Path:
    """The last build's plan in one line, for the refresh summary."""
    return state_dir / "dbt" / "last_plan.txt"


def build_args(plan: BuildPlan, manifest: Mapping[str, Any] | None = None) -> list[str]:
    """dbt's arguments for the planned build. Unit tests check the code, not the data: they run
    in the test suite, not per refresh. An incremental build leaves out what it cannot change
    (given the `manifest`): those nodes' rows and audits stand as the last build left them."""
    if plan.full_refresh:
        return ["build", "--exclude", "test_type:unit", "--full-refresh"]
    unchanged = sorted(unchanged_nodes(manifest).values()) if manifest is not None else []
    return ["build", "--exclude", " ".join(["test_type:unit", *unchanged])]


def build_threads(plan: BuildPlan, loaded_rows: int) -> str | None:
    """dbt's threads for the planned build (the profile reads CRM_DBT_THREADS) when not the
    profile's default: one for a full build of at least SINGLE_THREAD_FULL_BUILD_ROWS raw rows,
    unless CRM_DBT_THREADS is set by hand."""
    if os.environ.get(THREADS_ENV):
        return None
    if plan.full_refresh and loaded_rows >= SINGLE_THREAD_FULL_BUILD_ROWS:
        return "1"
    return None


def unchanged_nodes(manifest: Mapping[str, Any]) -> dict[str, str]:
    """unique_id -> name of the seeds, models and data tests whose every input is one an
    incremental build leaves as it was: the reference entities' raw sources (a new file of one
    makes the build full) and the seeds (part of the project). Rebuilt, they would hold the
    same rows and pass the same tests: 25 nodes of this project (13 of them models and the
    seed), each costing dbt about 0.1 s however small."""
    parents = {
        uid: node.get("depends_on", {}).get("nodes", []) for uid, node in manifest["nodes"].items()
    }
    unchanged: dict[str, bool] = {}

    def is_unchanged(uid: str) -> bool:
        if uid not in unchanged:
            if uid in manifest["sources"]:
                source = manifest["sources"][uid]
                unchanged[uid] = source["source_name"] == "raw" and source["name"] in _WHY_FULL
            elif uid.startswith("seed."):
                unchanged[uid] = True
            else:
                unchanged[uid] = False  # until proven otherwise (no cycles in dbt's graph)
                inputs = parents.get(uid, [])
                unchanged[uid] = bool(inputs) and all(is_unchanged(p) for p in inputs)
        return unchanged[uid]

    return {
        uid: node["name"]
        for uid, node in manifest["nodes"].items()
        if uid.startswith(("test.", "model.", "seed."))
        and node["resource_type"] in ("test", "model", "seed")
        and is_unchanged(uid)
    }


def record_build(state_dir: Path) -> None:
    """Called after a complete, successful build."""
    path = record_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"project": project_fingerprint(), "files": loaded_files(state_dir)}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(body, sort_keys=True), encoding="utf-8")
    temporary.replace(path)
