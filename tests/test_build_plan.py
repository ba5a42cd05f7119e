"""When a build may be incremental (crm_analytics/build_plan.py): only new files since a
complete build of the same project; everything else builds in full."""

from __future__ import annotations

import duckdb
import pytest

from crm_analytics import build_plan
from crm_analytics.build_plan import plan_build, prepare_build, record_build
from crm_analytics.config import Settings
from crm_analytics.ingest import ingest, write_raw_views
from tests.pipeline import refresh, run_dbt, write_landing

SALE = {
    "sale_id": "S1",
    "location_id": "L1",
    "amount": "10",
    "status": "draft",
    "created_at": "2025-02-01 10:00",
}


@pytest.fixture
def built(tmp_path) -> Settings:
    """An instance whose first batch was ingested and recorded as completely built."""
    settings = Settings(
        landing=tmp_path / "landing", warehouse=tmp_path / "wh.duckdb", reports_dir=tmp_path
    )
    write_landing(
        settings.landing,
        {"locations": [{"location_id": "L1", "name": "A"}], "sales": [SALE]},
        "2025-02-01.csv",
    )
    land(settings)
    assert plan_build(settings.state_dir, settings.work_db).full_refresh
    record_build(settings.state_dir)
    # what that build published (publishing renames the serving file over it)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("create schema marts; create table marts.fct_sales as select 'S1' as sale_id")
    return settings


def land(settings: Settings) -> None:
    ingest(settings.landing, settings.state_dir)
    settings.work_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.work_db)) as con:
        write_raw_views(con, settings.state_dir)


def test_first_build_is_full(tmp_path):
    settings = Settings(
        landing=tmp_path / "l", warehouse=tmp_path / "w.duckdb", reports_dir=tmp_path
    )
    plan = plan_build(settings.state_dir, settings.work_db)
    assert plan.full_refresh and plan.reason == "no working warehouse yet"


def test_only_new_files_build_incrementally_and_parse_just_those(built):
    write_landing(built.landing, {"sales": [{**SALE, "sale_id": "S2"}]}, "2025-02-02.csv")
    land(built)
    plan = prepare_build(built)
    assert not plan.full_refresh
    assert plan.new_files["sales"] == {"2025-02-02.csv"}
    assert plan.new_files["locations"] == set()
    with duckdb.connect(str(built.work_db), read_only=True) as con:
        rows = con.execute("select sale_id, _source_file from raw_new.sales").fetchall()
    assert rows == [("S2", "2025-02-02.csv")]


def test_a_file_already_parsed_is_not_parsed_again(tmp_path):
    settings = Settings(
        landing=tmp_path / "landing", warehouse=tmp_path / "wh.duckdb", reports_dir=tmp_path
    )
    write_landing(
        settings.landing,
        {"locations": [{"location_id": "L1", "name": "A"}], "sales": [SALE]},
        "2025-02-01.csv",
    )
    refresh(settings)
    write_landing(settings.landing, {"sales": [{**SALE, "sale_id": "S2"}]}, "2025-02-02.csv")
    assert not refresh(settings).full_refresh
    # dbt run again by hand: raw_new still lists 2025-02-02.csv, which base has parsed
    run_dbt(settings, "run", "--select", "base_crm__sales")
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        rows = con.execute(
            "select sale_id, _source_file from staging.base_crm__sales order by sale_id"
        ).fetchall()
    assert rows == [("S1", "2025-02-01.csv"), ("S2", "2025-02-02.csv")]


def test_an_incremental_build_updates_a_copy_of_the_published_warehouse(built):
    assert not built.serving_db.exists()
    plan = prepare_build(built)
    assert not plan.full_refresh
    assert built.serving_db.read_bytes() == built.warehouse.read_bytes()


def test_without_the_published_warehouse_the_build_is_full(built):
    built.warehouse.unlink()
    plan = prepare_build(built)
    assert plan.full_refresh and plan.reason == "no published warehouse to build on"
    assert not built.serving_db.exists()


def test_nothing_new_is_an_incremental_build_of_nothing(built):
    plan = plan_build(built.state_dir, built.work_db)
    assert not plan.full_refresh and plan.reason == "0 new files since the last build"


def test_a_build_that_did_not_finish_makes_the_next_full(built):
    prepare_build(built)  # forgets the record; a crash now leaves none
    plan = plan_build(built.state_dir, built.work_db)
    assert plan.full_refresh and plan.reason == "no record of a complete previous build"


def test_a_changed_file_makes_the_build_full(built):
    path = built.landing / "sales" / "2025-02-01.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("10", "11"), encoding="utf-8")
    land(built)
    plan = plan_build(built.state_dir, built.work_db)
    assert plan.full_refresh
    assert plan.reason == "sales/2025-02-01.csv is no longer loaded as before"


def test_a_resent_copy_sorting_first_makes_the_build_full(built):
    original = built.landing / "sales" / "2025-02-01.csv"
    (built.landing / "sales" / "2025-01-31_resend.csv").write_bytes(original.read_bytes())
    land(built)
    plan = plan_build(built.state_dir, built.work_db)
    assert plan.full_refresh and "2025-02-01.csv is no longer loaded" in plan.reason


@pytest.mark.parametrize("entity", ["locations", "specialists", "promotions", "promo_codes"])
def test_a_new_reference_file_makes_the_build_full(built, entity):
    rows = {
        "locations": {"location_id": "L2", "name": "B"},
        "specialists": {"specialist_id": "E1", "location_id": "L1", "name": "Ирина"},
        "promotions": {
            "promotion_id": "P1",
            "location_id": "L1",
            "name": "Весна",
            "promotion_type": "discount",
        },
        "promo_codes": {
            "promo_code_id": "C1",
            "code": "SPRING",
            "location_id": "L1",
            "starts_at": "2025-01-01 00:00",
        },
    }
    write_landing(built.landing, {entity: [rows[entity]]}, "2025-02-02.csv")
    land(built)
    plan = plan_build(built.state_dir, built.work_db)
    assert plan.full_refresh and plan.reason.startswith(f"new {entity} extract")


def test_a_changed_dbt_project_makes_the_build_full(built, monkeypatch):
    monkeypatch.setattr(build_plan, "project_fingerprint", lambda: "another project")
    plan = plan_build(built.state_dir, built.work_db)
    assert plan.full_refresh and plan.reason == "the dbt project or engine changed"


def test_a_full_build_starts_from_an_empty_serving_database(built):
    built.serving_db.parent.mkdir(parents=True, exist_ok=True)
    built.serving_db.write_bytes(b"left over")
    build_plan.forget_build(built.state_dir)
    assert prepare_build(built).full_refresh
    assert not built.serving_db.exists()


def test_a_selection_is_full_and_keeps_the_serving_database(built):
    built.serving_db.write_bytes(b"other marts")
    plan = prepare_build(built, whole_project=False)
    assert plan.full_refresh and plan.reason == "a selection of models was requested"
    assert built.serving_db.read_bytes() == b"other marts"
    assert not build_plan.record_path(built.state_dir).exists()


def _manifest(nodes: dict[str, list[str]], sources: list[str]) -> dict:
    """A manifest with only what the test selection reads: node ids and their parents."""
    return {
        "nodes": {
            uid: {
                "name": uid.split(".")[-1],
                "resource_type": uid.split(".")[0],
                "depends_on": {"nodes": parents},
            }
            for uid, parents in nodes.items()
        },
        "sources": {
            f"source.p.raw.{name}": {"source_name": "raw", "name": name} for name in sources
        },
    }


def test_an_incremental_build_leaves_out_what_it_cannot_change():
    manifest = _manifest(
        {
            "seed.p.zones": [],
            "model.p.stg_locations": ["source.p.raw.locations"],
            "model.p.dim_locations": ["model.p.stg_locations", "seed.p.zones"],
            "model.p.stg_sales": ["source.p.raw.sales", "model.p.stg_locations"],
            "model.p.constants": [],
            "test.p.unique_zones": ["seed.p.zones"],
            "test.p.unique_dim_locations": ["model.p.dim_locations"],
            "test.p.relationships_locations_zones": ["model.p.dim_locations", "seed.p.zones"],
            "test.p.unique_stg_sales": ["model.p.stg_sales"],
            "test.p.sales_have_locations": ["model.p.stg_sales", "model.p.dim_locations"],
            "test.p.constants_hold": ["model.p.constants"],
        },
        ["locations", "sales"],
    )
    # locations (a reference entity: a new file of it makes the build full) and seeds
    # (the project) are as the last build left them, and so is all that reads only them;
    # sales may change, and a model without inputs is not assumed unchanged
    assert build_plan.unchanged_nodes(manifest) == {
        "seed.p.zones": "zones",
        "model.p.stg_locations": "stg_locations",
        "model.p.dim_locations": "dim_locations",
        "test.p.unique_zones": "unique_zones",
        "test.p.unique_dim_locations": "unique_dim_locations",
        "test.p.relationships_locations_zones": "relationships_locations_zones",
    }
    incremental = build_plan.build_args(build_plan.BuildPlan(False, "1 new file"), manifest)
    assert incremental == [
        "build",
        "--exclude",
        "test_type:unit dim_locations relationships_locations_zones stg_locations"
        " unique_dim_locations unique_zones zones",
    ]
    # a full build runs every node but the unit tests
    full = build_plan.build_args(build_plan.BuildPlan(True, "first"), manifest)
    assert full == ["build", "--exclude", "test_type:unit", "--full-refresh"]


def test_a_large_full_build_runs_one_model_at_a_time(monkeypatch):
    monkeypatch.delenv("CRM_DBT_THREADS", raising=False)
    full = build_plan.BuildPlan(True, "first")
    # 5M raw rows is where one model keeps DuckDB's threads busy by itself
    assert build_plan.build_threads(full, 5_000_000) == "1"
    assert build_plan.build_threads(full, 24_398_518) == "1"
    # smaller builds keep the profile's threads, and so does any incremental build
    assert build_plan.build_threads(full, 4_999_999) is None
    assert build_plan.build_threads(build_plan.BuildPlan(False, "1 new file"), 24_398_518) is None
    # threads set by hand win
    monkeypatch.setenv("CRM_DBT_THREADS", "2")
    assert build_plan.build_threads(full, 24_398_518) is None


def test_the_project_s_unchanged_nodes_are_only_reference_entities_and_seeds():
    import json

    from orchestration.project import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text(encoding="utf-8"))
    unchanged = build_plan.unchanged_nodes(manifest)
    names = set(unchanged.values())
    assert {
        "base_crm__locations",
        "stg_crm__promo_codes",
        "dim_specialists",
        "iana_timezones",
        "unique_dim_locations_location_id",
        "primary_key_stg_crm__promo_codes_promo_code_id",
        "unique_iana_timezones_timezone_name",
    } <= names
    # what reads a changing entity is never left out
    assert not names & {"stg_crm__sales", "fct_promo_activations", "audit_quarantined_rows"}
    inputs = {
        parent
        for unique_id in unchanged
        for parent in manifest["nodes"][unique_id]["depends_on"].get("nodes", [])
    }
    reference = ("locations", "specialists", "promotions", "promo_codes", "iana_timezones")
    assert inputs and all(parent.endswith(reference) for parent in inputs), inputs
