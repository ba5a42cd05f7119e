"""The order dbt starts ready nodes in: the longest estimated chain of work first
(crm_analytics.build_schedule, installed by crm-dbt)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crm_analytics import build_schedule
from crm_analytics.build_schedule import FULL, INCREMENTAL
from crm_analytics.dbt_main import NO_TEST_GATES_ENV, WARM_SOCKET_ENV

CRM_DBT = str(Path(sys.executable).with_name("crm-dbt"))


def _manifest(nodes: dict[str, list[str]], sources: dict[str, str]) -> dict:
    return {
        "nodes": {uid: {"depends_on": {"nodes": parents}} for uid, parents in nodes.items()},
        "sources": {uid: {"name": name} for uid, name in sources.items()},
    }


# a raw source of 4M rows and one of 1M; base -> stg for each, a mart joining both, a test
MANIFEST = _manifest(
    {
        "model.p.base_big": ["source.p.raw.big"],
        "model.p.base_small": ["source.p.raw.small"],
        "model.p.stg_big": ["model.p.base_big"],
        "model.p.mart": ["model.p.stg_big", "model.p.base_small"],
        "test.p.unique_mart_id": ["model.p.mart"],
        "seed.p.codes": [],
    },
    {"source.p.raw.big": "big", "source.p.raw.small": "small"},
)
ROWS = {"big": 4_000_000, "small": 1_000_000}


def test_critical_path_scores_put_the_longest_chain_of_work_first():
    # a(1) -> b(5) -> d(1); c(4) -> d; e(2) alone. Remaining work from each node, itself
    # included: d 1; b 5+1=6; a 1+6=7; c 4+1=5; e 2.
    edges = [("a", "b"), ("b", "d"), ("c", "d")]
    seconds = {"a": 1, "b": 5, "c": 4, "d": 1, "e": 2}
    scores = build_schedule.critical_path_scores(["a", "b", "c", "d", "e"], edges, seconds)
    assert scores == {"a": -7.0, "b": -6.0, "c": -5.0, "d": -1.0, "e": -2.0}
    # of the ready roots, a starts first although c alone is longer
    assert sorted(["c", "e", "a"], key=scores.__getitem__) == ["a", "c", "e"]


def test_critical_path_scores_handle_chains_deeper_than_the_recursion_limit():
    chain = [f"n{i}" for i in range(5000)]
    edges = list(itertools.pairwise(chain))
    scores = build_schedule.critical_path_scores(chain, edges, dict.fromkeys(chain, 1.0))
    assert scores["n0"] == -5000.0 and scores["n4999"] == -1.0


def test_without_times_a_node_s_work_is_the_rows_it_reads():
    # in millions: base_big reads raw.big (4); stg_big reads base_big, which has as many
    # rows as its input (4); mart reads stg_big (4) and base_small (1): 5; the test reads
    # mart (max of its inputs: 4) at a tenth: 0.4; the seed reads nothing.
    estimates = build_schedule.estimate_seconds(MANIFEST, FULL, {}, lambda: ROWS)
    assert estimates == pytest.approx(
        {
            "model.p.base_big": 4.0,
            "model.p.base_small": 1.0,
            "model.p.stg_big": 4.0,
            "model.p.mart": 5.0,
            "test.p.unique_mart_id": 0.4,
            "seed.p.codes": 0.0,
        }
    )


def test_the_last_build_of_the_same_kind_gives_the_times():
    asked = []
    history = {
        FULL: dict.fromkeys(MANIFEST["nodes"], 10.0),
        INCREMENTAL: dict.fromkeys(MANIFEST["nodes"], 1.0),
    }
    rows = lambda: asked.append(True) or ROWS  # noqa: E731
    assert set(build_schedule.estimate_seconds(MANIFEST, FULL, history, rows).values()) == {10.0}
    incremental = build_schedule.estimate_seconds(MANIFEST, INCREMENTAL, history, rows)
    assert set(incremental.values()) == {1.0}
    # no full build measured yet: the incremental one's times order the nodes
    only_incremental = {INCREMENTAL: history[INCREMENTAL]}
    full = build_schedule.estimate_seconds(MANIFEST, FULL, only_incremental, rows)
    assert set(full.values()) == {1.0}
    assert not asked  # every node had a time: the ledger was not read


def test_a_node_added_since_the_last_build_gets_its_rows_in_the_measured_unit():
    # measured: base_big 8 s, base_small 2 s, stg_big 8 s, mart 10 s, the test 0.8 s, the seed
    # 0 s (26.8 s) where the rows-read estimates are 4, 1, 4, 5, 0.4, 0 (13.4): 2 s per unit.
    measured = {
        "model.p.base_big": 8.0,
        "model.p.base_small": 2.0,
        "model.p.stg_big": 8.0,
        "model.p.mart": 10.0,
        "test.p.unique_mart_id": 0.8,
        "seed.p.codes": 0.0,
    }
    manifest = json.loads(json.dumps(MANIFEST))
    manifest["nodes"]["model.p.new_mart"] = {"depends_on": {"nodes": ["model.p.stg_big"]}}
    estimates = build_schedule.estimate_seconds(manifest, FULL, {FULL: measured}, lambda: ROWS)
    assert estimates["model.p.new_mart"] == pytest.approx(8.0)  # reads 4M rows: 4 units x 2 s
    assert estimates["model.p.mart"] == 10.0


def test_recorded_times_keep_those_of_nodes_the_build_did_not_run(tmp_path):
    first = {
        "results": [
            {"unique_id": "model.p.a", "status": "success", "execution_time": 2.5},
            {"unique_id": "test.p.t", "status": "pass", "execution_time": 0.25},
        ]
    }
    build_schedule.record_history(tmp_path, INCREMENTAL, first)
    second = {
        "results": [
            {"unique_id": "model.p.a", "status": "success", "execution_time": 3.0},
            {"unique_id": "model.p.b", "status": "error", "execution_time": 0.1},  # failed
            {"unique_id": "model.p.c", "status": "skipped", "execution_time": 0},
        ]
    }
    build_schedule.record_history(tmp_path, INCREMENTAL, second)
    assert build_schedule.load_history(tmp_path) == {
        INCREMENTAL: {"model.p.a": 3.0, "test.p.t": 0.25}
    }


def test_results_of_an_earlier_build_are_not_recorded_again(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    results = {"results": [{"unique_id": "model.p.a", "status": "success", "execution_time": 1}]}
    (target / "run_results.json").write_text(json.dumps(results), encoding="utf-8")
    written = (target / "run_results.json").stat().st_mtime
    build_schedule.record_build_times(tmp_path, target, FULL, since=written + 10)
    assert build_schedule.load_history(tmp_path) == {}
    build_schedule.record_build_times(tmp_path, target, FULL, since=written)
    assert build_schedule.load_history(tmp_path) == {FULL: {"model.p.a": 1.0}}


def test_a_full_build_keeps_dbt_s_own_order(tmp_path):
    target = tmp_path / "target"
    # no times recorded yet: an incremental build is ordered by the rows each node reads
    build_schedule.schedule_build(tmp_path, target, MANIFEST, INCREMENTAL, lambda: ROWS)
    assert build_schedule.read_schedule(target)["model.p.mart"] == pytest.approx(5.0)
    build_schedule.schedule_build(tmp_path, target, MANIFEST, FULL, lambda: ROWS)
    assert build_schedule.read_schedule(target) == {}
    assert not (target / build_schedule.SCHEDULE_FILE).exists()


def _tiny_project(root: Path) -> None:
    """Five models: a, b, c independent; c -> d -> e."""
    models = root / "models"
    models.mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: tiny\nversion: '1.0.0'\nconfig-version: 2\nprofile: tiny\n", encoding="utf-8"
    )
    (root / "profiles.yml").write_text(
        "tiny:\n  target: t\n  outputs:\n    t:\n      type: duckdb\n"
        f"      path: {root / 'tiny.duckdb'}\n      threads: 1\n",
        encoding="utf-8",
    )
    for name in "abc":
        (models / f"{name}.sql").write_text("select 1 as x\n", encoding="utf-8")
    (models / "d.sql").write_text("select * from {{ ref('c') }}\n", encoding="utf-8")
    (models / "e.sql").write_text("select * from {{ ref('d') }}\n", encoding="utf-8")


def _run_order(
    root: Path, target: Path, command: str = "run", exit_code: int = 0, *, refresh: bool = False
) -> list[str]:
    """Start order of the nodes; `refresh`: as the refresh's dbt asset runs `crm-dbt`."""
    env = {k: v for k, v in os.environ.items() if k not in (WARM_SOCKET_ENV, NO_TEST_GATES_ENV)}
    env["DBT_TARGET_PATH"] = str(target)
    if refresh:
        env[NO_TEST_GATES_ENV] = "1"
    done = subprocess.run(
        [CRM_DBT, command, "--profiles-dir", str(root), "--project-dir", str(root)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == exit_code, done.stdout + done.stderr
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    started = {
        r["unique_id"].split(".")[2]: next(t["started_at"] for t in r["timing"])
        for r in results
        if r["timing"]
    }
    return sorted(started, key=started.__getitem__)


def test_crm_dbt_starts_the_longest_chain_first(tmp_path):
    _tiny_project(tmp_path)
    target = tmp_path / "target"
    # dbt's own order: by depth, then by name
    assert _run_order(tmp_path, target) == ["a", "b", "c", "d", "e"]
    # one second each: c has 3 s of work after it starts, d 2 s, the others 1 s
    names = "abcde"
    build_schedule.write_schedule(target, {f"model.tiny.{n}": 1.0 for n in names})
    assert _run_order(tmp_path, target) == ["c", "d", "a", "b", "e"]


def test_a_scheduled_build_runs_data_tests_beside_the_models(tmp_path):
    # c has a data test that fails; d and e are built from c
    _tiny_project(tmp_path)
    (tmp_path / "models" / "c.sql").write_text("select null as x\n", encoding="utf-8")
    (tmp_path / "models" / "schema.yml").write_text(
        "version: 2\nmodels:\n  - name: c\n    columns:\n      - name: x\n"
        "        data_tests: [not_null]\n",
        encoding="utf-8",
    )
    target = tmp_path / "target"
    # dbt build's own order (a build by hand): d waits for the test of its parent and is
    # skipped when it fails
    assert _run_order(tmp_path, target, "build", exit_code=1) == ["a", "b", "c", "not_null_c_x"]
    # a full build of the refresh (no estimates): dbt's order, but the test no longer holds d
    # and e back, and its failure still fails the build
    order = _run_order(tmp_path, target, "build", exit_code=1, refresh=True)
    assert order[:3] == ["a", "b", "c"] and sorted(order[3:]) == ["d", "e", "not_null_c_x"]
    # an incremental build of the refresh (estimates written): the test runs when a thread is
    # free for its short chain (last here, one thread)
    names = "abcde"
    seconds = {f"model.tiny.{n}": 1.0 for n in names}
    build_schedule.write_schedule(target, {**seconds, "test.tiny.not_null_c_x.abc": 0.1})
    order = _run_order(tmp_path, target, "build", exit_code=1, refresh=True)
    assert order == ["c", "d", "a", "b", "e", "not_null_c_x"]


def _manifest_writes(root: Path, target: Path, command: str, *, refresh: bool) -> int:
    env = {k: v for k, v in os.environ.items() if k not in (WARM_SOCKET_ENV, NO_TEST_GATES_ENV)}
    env["DBT_TARGET_PATH"] = str(target)
    if refresh:
        env[NO_TEST_GATES_ENV] = "1"
    logging = ["--log-format", "json", "--log-level", "debug"]
    done = subprocess.run(
        [CRM_DBT, *logging, command, "--profiles-dir", str(root)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return sum(
        e["info"]["name"] == "ArtifactWritten" and "WritableManifest" in e["info"]["msg"]
        for e in events
    )


def test_a_refresh_build_writes_the_manifest_once_at_the_end(tmp_path):
    _tiny_project(tmp_path)
    target = tmp_path / "target"
    # by hand, dbt writes it when the manifest is loaded and when the build ends; `parse` too
    assert _manifest_writes(tmp_path, target, "parse", refresh=False) == 1
    assert _manifest_writes(tmp_path, target, "build", refresh=False) == 2
    # the refresh's builds skip the first write; the file is the build's own
    (target / "manifest.json").unlink()
    assert _manifest_writes(tmp_path, target, "build", refresh=True) == 1
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["invocation_id"] == results["metadata"]["invocation_id"]
    assert {"model.tiny.a", "model.tiny.e"} <= set(manifest["nodes"])
