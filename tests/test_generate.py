"""The sample-data generator: deterministic, complete, contract-shaped, bounded memory."""

from __future__ import annotations

import csv
import hashlib
import inspect
import json
import re
import tracemalloc
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from crm_analytics.contract import ENTITY_NAMES, entities
from crm_analytics.generate import GenerateSummary, generate, rows
from crm_analytics.generate.periods import split_periods, window_start
from crm_analytics.generate.specials import DRIFT_COLUMN

FORMATS = (".csv", ".xlsx", ".jsonl")
SAMPLE_LIMIT = 5_000_000
Row = dict[str, Any]


def read_file(path: Path) -> tuple[list[str], list[Row]]:
    """Header (trimmed, lower-cased) and rows of one landing file, as the contract reads it."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader)]
            return header, [dict(zip(header, r, strict=True)) for r in reader]
    if path.suffix == ".jsonl":
        found: list[Row] = []
        keys: dict[str, None] = {}
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                obj = {k.strip().lower(): v for k, v in json.loads(line).items()}
                keys.update(dict.fromkeys(obj))
                found.append(obj)
        return list(keys), found
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        values = wb.worksheets[0].iter_rows(values_only=True)
        header = [str(h).strip().lower() for h in next(values)]
        # Write-only sheets carry no dimension, so trailing empty cells come back short.
        return header, [
            dict(zip(header, (*r, *[None] * (len(header) - len(r))), strict=True)) for r in values
        ]
    finally:
        wb.close()


def landing_files(root: Path, entity: str | None = None) -> list[Path]:
    names = [entity] if entity else list(ENTITY_NAMES)
    return [p for n in names for p in sorted((root / n).iterdir()) if p.suffix in FORMATS]


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateSummary]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate(out, scale=1, seed=42, file_period="week")


@pytest.fixture(scope="module")
def tables(sample: tuple[Path, GenerateSummary]) -> dict[str, list[Row]]:
    """Every row of every loadable file, with `_file` set (the rejected file left out)."""
    root, _ = sample
    out: dict[str, list[Row]] = {}
    for entity in ENTITY_NAMES:
        found: list[Row] = []
        for path in landing_files(root, entity):
            header, file_rows = read_file(path)
            if not set(entities()[entity].required_columns) <= set(header):
                continue
            for row in file_rows:
                row["_file"] = path.name
                found.append(row)
        out[entity] = found
    return out


def test_same_arguments_give_identical_bytes(
    sample: tuple[Path, GenerateSummary], tmp_path: Path
) -> None:
    root, _ = sample
    again = generate(tmp_path / "again", scale=1, seed=42, file_period="week")
    assert digest(again.out_dir) == digest(root)


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"scale": 0.2, "months": 1}
    a = digest(generate(tmp_path / "a", seed=1, **kwargs).out_dir)
    b = digest(generate(tmp_path / "b", seed=2, **kwargs).out_dir)
    assert a.keys() & b.keys()
    assert any(a[k] != b[k] for k in a.keys() & b.keys())


def test_every_entity_has_files_and_rows(sample: tuple[Path, GenerateSummary]) -> None:
    root, summary = sample
    for entity in ENTITY_NAMES:
        files = landing_files(root, entity)
        assert files, entity
        assert summary.entities[entity].files == len(files)
        assert summary.entities[entity].rows > 0
    assert summary.total_bytes == sum(p.stat().st_size for p in landing_files(root))
    assert "sales" in str(summary)


def test_every_entity_lands_in_all_three_formats(sample: tuple[Path, GenerateSummary]) -> None:
    root, _ = sample
    for entity in ENTITY_NAMES:
        assert {p.suffix for p in landing_files(root, entity)} == set(FORMATS), entity


def test_xlsx_and_jsonl_carry_typed_values(sample: tuple[Path, GenerateSummary]) -> None:
    root, _ = sample
    xlsx_types: set[type] = set()
    for path in (root / "sales").glob("*.xlsx"):
        for row in read_file(path)[1]:
            xlsx_types.update(type(v) for v in row.values())
    assert {datetime, float} <= xlsx_types or {datetime, int} <= xlsx_types
    json_types: set[type] = set()
    for path in root.glob("*/*.jsonl"):
        for row in read_file(path)[1]:
            json_types.update(type(v) for v in row.values())
    assert {bool, int} <= json_types


def test_headers_follow_the_contract(sample: tuple[Path, GenerateSummary]) -> None:
    root, _ = sample
    missing_required: list[str] = []
    extra: list[tuple[str, set[str]]] = []
    for entity in ENTITY_NAMES:
        contract = entities()[entity]
        for path in landing_files(root, entity):
            header, _ = read_file(path)
            if path.suffix == ".csv":
                assert len(header) == len(set(header)), path
            unknown = set(header) - set(contract.column_names)
            if unknown:
                extra.append((f"{entity}/{path.name}", unknown))
            if not set(contract.required_columns) <= set(header):
                missing_required.append(f"{entity}/{path.name}")
    assert len(missing_required) == 1 and missing_required[0].startswith("sales/")
    assert len(extra) == 1 and extra[0][0].startswith("clients/")
    assert extra[0][1] == {DRIFT_COLUMN}


def test_the_one_rejected_file_lacks_amount(sample: tuple[Path, GenerateSummary]) -> None:
    root, _ = sample
    rejects = [p for p in landing_files(root, "sales") if "amount" not in read_file(p)[0]]
    assert [p.name for p in rejects] == ["2026-05-18_manual_upload.csv"]
    assert len(read_file(rejects[0])[1]) > 0


def test_exactly_one_duplicate_file(sample: tuple[Path, GenerateSummary]) -> None:
    root, _ = sample
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in landing_files(root):
        groups[(path.parent.name, hashlib.sha256(path.read_bytes()).hexdigest())].append(path.name)
    duplicates = [sorted(names) for names in groups.values() if len(names) > 1]
    assert duplicates == [["2026-02-09.csv", "2026-02-09_resend.csv"]]


def test_file_names_sort_in_time_order(sample: tuple[Path, GenerateSummary]) -> None:
    root, _ = sample
    for entity in ENTITY_NAMES:
        names = [p.name for p in landing_files(root, entity)]
        days = [date.fromisoformat(n[:10]) for n in names]
        assert days == sorted(days), entity
        assert all(
            re.fullmatch(r"\d{4}-\d{2}-\d{2}(_[a-z_]+)?\.(csv|xlsx|jsonl)", n) for n in names
        )


def test_some_csv_files_have_a_bom(sample: tuple[Path, GenerateSummary]) -> None:
    root, _ = sample
    boms = [p.read_bytes()[:3] == b"\xef\xbb\xbf" for p in root.glob("*/*.csv")]
    assert any(boms) and not all(boms)


def test_default_sample_is_small(sample: tuple[Path, GenerateSummary]) -> None:
    _, summary = sample
    assert summary.total_bytes < SAMPLE_LIMIT


def test_scale_one_volumes(tables: dict[str, list[Row]]) -> None:
    def distinct(entity: str) -> int:
        key = entities()[entity].key
        return len({text(r.get(key)) for r in tables[entity]})

    assert 900 <= distinct("clients") <= 1100
    assert 8_000 <= distinct("sales") <= 12_000
    assert 4_000 <= distinct("appointments") <= 6_500
    assert 1_500 <= distinct("activities") <= 2_500
    assert 350 <= distinct("promo_activations") <= 800
    assert 5 <= distinct("locations") <= 10


def test_facts_reference_existing_records(tables: dict[str, list[Row]]) -> None:
    clients = {text(r["client_id"]) for r in tables["clients"]}
    # Bad rows (~0.5%) may have lost a visit_id or location: those are quarantined
    # downstream, so a few sales may point at a visit no valid appointment carries.
    visit_location = {
        text(r.get("visit_id")): text(r.get("location_id"))
        for r in tables["appointments"]
        if text(r.get("location_id"))
    }
    deals = {text(r["deal_id"]) for r in tables["deals"]}
    in_visits = unresolved = 0
    for sale in tables["sales"]:
        if text(sale.get("client_id")):
            assert text(sale["client_id"]) in clients
        if text(sale.get("visit_id")):
            in_visits += 1
            location = visit_location.get(text(sale["visit_id"]))
            if location is None:
                unresolved += 1
            elif text(sale.get("location_id")):
                assert location == text(sale["location_id"])
        if text(sale.get("deal_id")):
            assert text(sale["deal_id"]) in deals
    assert in_visits > 3000 and unresolved <= in_visits * 0.005
    for entity in ("activities", "sms_messages", "promo_activations"):
        for row in tables[entity]:
            if text(row.get("client_id")):
                assert text(row["client_id"]) in clients, entity
    specialists = {text(r["specialist_id"]) for r in tables["specialists"]}
    associates = {text(r.get("associate_id")) for r in tables["activities"]} - {""}
    assert associates <= specialists
    codes = {text(r["promo_code_id"]) for r in tables["promo_codes"]}
    assert {text(r["promo_code_id"]) for r in tables["promo_activations"]} - {""} <= codes


def test_reports_have_material(tables: dict[str, list[Row]]) -> None:
    zones = {text(r.get("timezone")) for r in tables["locations"]}
    assert {"Europe/Moscow", "Asia/Yekaterinburg"} <= zones
    types = {text(r["promotion_type"]) for r in tables["promotions"]}
    assert {"fixed_discount", "fixed_cashback_sold", "fixed_cashback_paid"} < types
    used = {text(r.get("promotion_id")) for r in tables["appointments"]} - {""}
    assert len(used) > 10
    statuses = Counter(text(r.get("status")).lower() for r in tables["appointments"])
    assert statuses["arrived"] > statuses["cancelled"] > 0 and statuses["no_show"] > 0
    assert statuses["booked"] > 0
    kinds = {text(r.get("kind")) for r in tables["sales"]}
    assert {"service", "product", "other"} <= kinds
    assert any(
        text(r["amount"]).startswith("-")
        or (isinstance(r["amount"], float | int) and r["amount"] < 0)
        for r in tables["sales"]
        if r.get("amount") is not None
    )
    assert any(not text(r.get("client_id")) for r in tables["sales"])
    assert {"Message", "AI activity", "Call"} <= {
        text(r.get("activity_type")) for r in tables["activities"]
    }
    per_code = Counter(text(r.get("promo_code_id")) for r in tables["promo_activations"])
    reach: dict[str, set[str]] = defaultdict(set)
    for r in tables["promo_activations"]:
        reach[text(r.get("promo_code_id"))].add(text(r.get("client_id")))
    assert any(n / len(reach[code]) >= 5 for code, n in per_code.items())


def test_one_person_has_records_in_several_locations(tables: dict[str, list[Row]]) -> None:
    locations: dict[str, set[str]] = defaultdict(set)
    for r in tables["clients"]:
        digits = re.sub(r"\D", "", text(r.get("phone")))[-10:]
        if len(digits) == 10:
            locations[digits].add(text(r["location_id"]))
    assert sum(1 for found in locations.values() if len(found) > 1) > 50
    assert any(
        re.fullmatch(r"[А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+", text(r.get("name"))) for r in tables["clients"]
    )


def test_drafts_are_posted_by_a_later_version(tables: dict[str, list[Row]]) -> None:
    versions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in tables["sales"]:
        versions[text(r["sale_id"])].append((r["_file"], text(r.get("status")).lower()))
    later_posted = [
        v
        for v in versions.values()
        if v[0][1] == "draft" and any(s == "posted" for _, s in v[1:]) and v[-1][0] > v[0][0]
    ]
    assert len(later_posted) > 20


def test_row_builders_follow_the_contract_column_order() -> None:
    builders = {
        "appointments": rows.appointment,
        "deals": rows.deal,
        "sales": rows.sale,
        "promo_activations": rows.promo_activation,
        "activities": rows.activity,
        "sms_messages": rows.sms_message,
    }
    for entity, build in builders.items():
        assert tuple(inspect.signature(build).parameters) == entities()[entity].column_names


def test_periods_are_days_or_weeks_named_by_first_day() -> None:
    start = window_start(date(2026, 10, 31), 12)
    assert start == date(2025, 11, 1)
    weeks = split_periods(start, date(2026, 11, 1), "week")
    assert weeks[0].first == start and weeks[1].first.weekday() == 0
    assert weeks[-1].stop == date(2026, 11, 1)
    assert len(split_periods(start, date(2026, 11, 1), "day")) == 365


def test_daily_files_and_clean_mode(tmp_path: Path) -> None:
    summary = generate(tmp_path, scale=0.2, months=1, file_period="day", messy=False)
    names = [p.name for p in landing_files(tmp_path, "sales")]
    assert len(names) == 31 and names[0] == "2026-10-01.csv"
    for path in landing_files(tmp_path):
        header, _ = read_file(path)
        assert set(header) <= set(entities()[path.parent.name].column_names)
    assert summary.total_rows > 0


def test_refuses_to_mix_with_existing_extracts(tmp_path: Path) -> None:
    generate(tmp_path, scale=0.1, months=1)
    with pytest.raises(FileExistsError):
        generate(tmp_path, scale=0.1, months=1)
    again = generate(tmp_path, scale=0.1, months=1, overwrite=True)
    assert again.total_files == len(landing_files(tmp_path))


def _peak(out: Path, scale: float) -> int:
    tracemalloc.start()
    try:
        generate(out, scale=scale, months=1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_scale(tmp_path: Path) -> None:
    _peak(tmp_path / "warm", 0.1)  # imports and caches out of the measurement
    small = _peak(tmp_path / "small", 0.5)
    large = _peak(tmp_path / "triple", 1.5)
    assert large < small * 1.5 + 1_000_000, (small, large)
