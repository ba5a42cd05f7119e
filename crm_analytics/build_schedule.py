"""The order in which dbt starts the nodes that are ready: the longest remaining work first.

dbt starts ready nodes by their depth in the graph and then by name, and its run loop queues
every ready node in the thread pool at once, first come first served. In a one-day build at
10M rows that started `fct_deals` and `fct_attributed_sales` (the longest chains after the
client mapping) behind smaller models, and `dim_clients`, the last node, late. Critical-path
list scheduling starts first the node with the most estimated seconds between it and the end
of the build, and only when a thread is free to run it.

Measured at 10M rows, seven interleaved pairs on the same snapshot: dbt's span of one more day
11.9 s -> 11.5 s on average (better in five pairs, worse in one). Full builds keep dbt's order:
there each large query already keeps both cores busy (one dbt thread took as long as two), and
ordering them did not pay in three builds on the same state (133.7 s in dbt's order, 134.0 s
and 135.3 s ordered).

The estimates are the seconds each node took in the last build of the same kind (full or
incremental), else of the other kind. Without any (the first build), or for nodes added since,
a node's work is taken as the rows it reads: every parent's rows, where a raw source has the
rows loaded for its entity and a model as many as its largest input.

The refresh writes the estimates to the dbt target folder (`SCHEDULE_FILE`) before it runs
dbt; `crm_analytics.dbt_main` turns them into dbt's queue priorities. The file only orders
what dbt would run anyway: without it, or with a stale one, the build is the same.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

SCHEDULE_FILE = "crm_schedule.json"  # in the dbt target folder: {unique_id: seconds}
HISTORY_FILE = "node_seconds.json"  # in the state's dbt folder: {kind: {unique_id: seconds}}
FULL, INCREMENTAL = "full", "incremental"
# a data test reads its model once, cheaply compared with building it
_TEST_SHARE = 0.1
_RUN_NODE_TYPES = ("model", "test", "seed", "snapshot")


def estimate_seconds(
    manifest: Mapping[str, Any],
    kind: str,
    history: Mapping[str, Mapping[str, float]],
    source_rows: Callable[[], Mapping[str, int]],
) -> dict[str, float]:
    """Estimated seconds (or work in proportional units) of every node a build may run.
    `source_rows` (rows loaded per raw entity) is asked only when some node has no time."""
    nodes = [uid for uid in manifest["nodes"] if uid.split(".", 1)[0] in _RUN_NODE_TYPES]
    other = INCREMENTAL if kind == FULL else FULL
    measured = history.get(kind) or history.get(other) or {}
    missing = [uid for uid in nodes if uid not in measured]
    if not missing:
        return {uid: measured[uid] for uid in nodes}
    static = rows_read(manifest, source_rows())
    common = [uid for uid in nodes if uid in measured]
    # the rows-read estimate in the unit of the measured seconds, where both are known
    static_total = sum(static[uid] for uid in common)
    scale = sum(measured[uid] for uid in common) / static_total if static_total > 0 else 1.0
    return {uid: measured[uid] if uid in measured else static[uid] * scale for uid in nodes}


def rows_read(manifest: Mapping[str, Any], source_rows: Mapping[str, int]) -> dict[str, float]:
    """A node's work taken as the rows it reads (millions): each parent's rows, where a source
    has the rows loaded for its entity (`source_rows`, by source name) and a model as many rows
    as its largest input. A data test counts a tenth."""
    parents = {
        uid: node.get("depends_on", {}).get("nodes", []) for uid, node in manifest["nodes"].items()
    }
    sizes: dict[str, float] = {}

    def size(uid: str) -> float:
        if uid not in sizes:
            source = manifest.get("sources", {}).get(uid)
            if source is not None:
                sizes[uid] = source_rows.get(source["name"], 0) / 1e6
            else:
                sizes[uid] = 0.0  # until known (dbt's graph has no cycles)
                sizes[uid] = max((size(p) for p in parents.get(uid, [])), default=0.0)
        return sizes[uid]

    work = {}
    for uid in manifest["nodes"]:
        read = sum(size(p) for p in parents.get(uid, []))
        work[uid] = read * (_TEST_SHARE if uid.startswith("test.") else 1.0)
    return work


def critical_path_scores(
    nodes: Iterable[str], edges: Iterable[tuple[str, str]], seconds: Mapping[str, float]
) -> dict[str, float]:
    """dbt queue scores (lower starts first): minus the estimated seconds of the longest chain
    from each node to the end of the graph, the node's own included."""
    children: dict[str, list[str]] = {node: [] for node in nodes}
    for parent, child in edges:
        children.setdefault(parent, []).append(child)
        children.setdefault(child, [])
    remaining: dict[str, float] = {}
    # iterative post-order: a chain of models may be deeper than Python's recursion limit
    for root in children:
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in remaining:
                continue
            if expanded:
                tail = max((remaining[c] for c in children[node]), default=0.0)
                remaining[node] = float(seconds.get(node, 0.0)) + tail
            else:
                stack.append((node, True))
                stack.extend((c, False) for c in children[node] if c not in remaining)
    return {node: -value for node, value in remaining.items()}


def schedule_build(
    state_dir: Path,
    target_dir: Path,
    manifest: Mapping[str, Any],
    kind: str,
    source_rows: Callable[[], Mapping[str, int]],
) -> None:
    """Before a build: its estimates, where `crm-dbt` will find them. A full build keeps
    dbt's own order: there the order did not pay (see above), and running two of the largest
    queries side by side shares DuckDB's memory limit between them."""
    if kind == FULL:
        (target_dir / SCHEDULE_FILE).unlink(missing_ok=True)
        return
    write_schedule(
        target_dir, estimate_seconds(manifest, kind, load_history(state_dir), source_rows)
    )


def record_build_times(state_dir: Path, target_dir: Path, kind: str, since: float) -> None:
    """After a build: its node times, unless dbt left no results newer than `since`."""
    run_results = target_dir / "run_results.json"
    try:
        if run_results.stat().st_mtime < since:
            return  # an earlier build's
        results = json.loads(run_results.read_bytes())
    except (OSError, ValueError):
        return
    record_history(state_dir, kind, results)


def write_schedule(target_dir: Path, seconds: Mapping[str, float]) -> None:
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / SCHEDULE_FILE
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(seconds, sort_keys=True), encoding="utf-8")
    temporary.replace(path)


def read_schedule(target_dir: str | os.PathLike[str] | None) -> dict[str, float]:
    """The estimates written for this build, or none (dbt's own order then)."""
    if not target_dir:
        return {}
    try:
        loaded = json.loads((Path(target_dir) / SCHEDULE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {k: float(v) for k, v in loaded.items() if isinstance(v, int | float)}


def history_path(state_dir: Path) -> Path:
    return state_dir / "dbt" / HISTORY_FILE


def load_history(state_dir: Path) -> dict[str, dict[str, float]]:
    try:
        loaded = json.loads(history_path(state_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {kind: dict(times) for kind, times in loaded.items() if isinstance(times, dict)}


def record_history(state_dir: Path, kind: str, run_results: Mapping[str, Any]) -> None:
    """Keep the node times of a build for the next build of its kind; nodes this build did not
    run keep their earlier times."""
    history = load_history(state_dir)
    times = history.setdefault(kind, {})
    for result in run_results.get("results", []):
        if result.get("status") in ("success", "pass") and result.get("execution_time"):
            times[result["unique_id"]] = round(float(result["execution_time"]), 3)
    path = history_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(history, sort_keys=True), encoding="utf-8")
    temporary.replace(path)
