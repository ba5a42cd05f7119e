"""The benchmark peer (bench/pandas_peer.py) against our pipeline on the bundled sample.

The peer is an independent, plain pandas implementation of raw-extracts.md and reports.md
that reads the landing files itself. On the same data and the same month its numbers must
equal those of our published warehouse: summaries and totals exactly, table rows exactly
(same keys, same values, same order). A difference means one side breaks the spec.

The module also pins a few of the peer's own value parsers to the contract's examples, and
runs it once as the plain script the benchmark times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench import pandas_peer
from crm_analytics.config import Settings
from crm_analytics.reports.base import connect
from crm_analytics.reports.registry import report_module
from exporters.json_export import render
from tests.pipeline import refresh

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "seeds" / "sample"
PEER_SCRIPT = ROOT / "bench" / "pandas_peer.py"
GENERATED = datetime(2026, 11, 1)
MONTH = {"from": "2026-10-01", "to": "2026-11-01"}

# name -> params as the CLI passes them (the role is given separately to our run()).
CASES: dict[str, dict[str, Any]] = {
    "promotions": {**MONTH, "location": "MSK01"},
    "chain-clients": {"sort": "name"},
    "repeat-clients": {**MONTH},
    "promo-codes": {**MONTH},
    "attributed-sales": {**MONTH, "window_days": 14},
}
SECTIONS = {
    "promotions": ("summary", "daily", "earnings", "specialists", "non_returners"),
    "chain-clients": ("clients",),
    "repeat-clients": ("rows", "totals"),
    "promo-codes": ("codes", "totals", "activations"),
    "attributed-sales": ("summary", "by_type", "daily", "purchases", "associates"),
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("peer")
    settings = Settings(landing=SAMPLE, warehouse=tmp / "wh.duckdb", reports_dir=tmp / "r")
    refresh(settings)
    return settings.warehouse


@pytest.fixture(scope="module")
def ours(warehouse) -> dict[str, dict[str, Any]]:
    """Our reports for the month, as the json export renders them."""
    documents = {}
    with connect(warehouse) as con:
        for name, params in CASES.items():
            result = report_module(name).run(con, params, "manager", GENERATED)
            documents[name] = json.loads(render(result))
    return documents


@pytest.fixture(scope="module")
def tables() -> pandas_peer.Tables:
    return pandas_peer.load(SAMPLE)


@pytest.fixture(scope="module")
def peer(tables) -> dict[str, dict[str, Any]]:
    return {
        name: json.loads(json.dumps(pandas_peer.report(tables, name, {**p, "role": "manager"})))
        for name, p in CASES.items()
    }


def first_difference(ours_rows: list[dict], peer_rows: list[dict]) -> str:
    for i, (a, b) in enumerate(zip(ours_rows, peer_rows, strict=False)):
        if a != b:
            keys = sorted(set(a) | set(b))
            changed = {k: (a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)}
            return f"row {i}: (ours, peer) {changed}\n  ours {a}"
    return f"row counts differ: ours {len(ours_rows)}, peer {len(peer_rows)}"


@pytest.mark.parametrize(
    ("name", "section"),
    [(name, section) for name, sections in SECTIONS.items() for section in sections],
)
def test_peer_matches_pipeline(ours, peer, name, section):
    assert section in ours[name], f"our {name} report has no {section!r} section"
    mine, theirs = ours[name][section], peer[name].get(section)
    if isinstance(mine, dict):
        assert isinstance(theirs, dict)
        assert list(theirs) == list(mine), "the record's keys differ"
        assert theirs == mine
    else:
        assert isinstance(theirs, list)
        # the data must exercise the section, or matching proves nothing
        assert mine, f"our {name}.{section} is empty for the month"
        assert [list(r) for r in theirs[:1]] == [list(r) for r in mine[:1]], "row keys differ"
        assert theirs == mine, first_difference(mine, theirs)


def test_peer_script_prints_the_report(peer):
    """The command the benchmark times: load + one report, JSON on stdout."""
    completed = subprocess.run(
        [
            sys.executable,
            str(PEER_SCRIPT),
            "--landing",
            str(SAMPLE),
            "repeat-clients",
            "--from",
            MONTH["from"],
            "--to",
            MONTH["to"],
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    document = json.loads(completed.stdout)
    assert document["report"] == "repeat-clients"
    assert document["rows"] == peer["repeat-clients"]["rows"]
    assert document["totals"] == peer["repeat-clients"]["totals"]


# --- the peer's own parsers, on the contract's examples (raw-extracts.md, Value formats) ----


def series(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype=str)


def test_peer_timestamps():
    wall, offset = pandas_peer.parse_timestamp(
        series(
            "2026-05-01T10:00",
            "2026-05-01 10:00:05.5",
            "2026-05-01T10:00:00Z",
            "2026-05-01 10:00+03:00",
            "2026-05-01 10:00-0130",
            "01.05.2026 10:00:07",
            "2026-05-01",
            "2026-05-01 10:00+03",
            "2026-05-01T10:00:00z",
            "2026-02-30 10:00",
            "2026-05-01 25:00",
            "31/12/2025 10:00",
            "2026-05-01t10:00",
        )
    )
    valid = [str(v) if pd.notna(v) else None for v in wall]
    assert valid == [
        "2026-05-01 10:00:00",
        "2026-05-01 10:00:05.500000",
        "2026-05-01 10:00:00",
        "2026-05-01 10:00:00",
        "2026-05-01 10:00:00",
        "2026-05-01 10:00:07",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert [None if pd.isna(v) else int(v) for v in offset[:6]] == [None, None, 0, 180, -90, None]


def test_peer_money_integers_booleans():
    money = pandas_peer.parse_money(
        series("27 025,00", "27\u00a0025.50", "-3,5", "+100", "12,34,56", "1.2.3", "", "0.125")
    )
    assert [None if pd.isna(v) else v for v in money] == [
        27025.0,
        27025.5,
        -3.5,
        None,
        None,
        None,
        None,
        0.125,
    ]
    integers = pandas_peer.parse_integer(series("3", "-2", "3.0", "1e3", ""))
    assert [None if pd.isna(v) else int(v) for v in integers] == [3, -2, None, None, None]
    booleans = pandas_peer.parse_boolean(series("TRUE", "0", "Да", "нет", "y", "maybe", ""))
    assert [None if pd.isna(v) else bool(v) for v in booleans] == [
        True,
        False,
        True,
        False,
        True,
        None,
        None,
    ]


def test_peer_chain_client_identity():
    phones = pandas_peer.normalise_phone(
        series("+7 (912) 345-67-89", "89123456789", "9123456789", "12345", "")
    )
    assert list(phones.fillna("-")) == ["79123456789"] * 3 + ["-", "-"]
    emails = pandas_peer.normalise_email(series(" Anna@Mail.RU ", "a@b", "a@@b.ru", "@b.ru"))
    assert list(emails.fillna("-")) == ["anna@mail.ru", "-", "-", "-"]


def test_peer_rounding_is_half_away_from_zero():
    assert pandas_peer.round2(0.05 / 2) == 0.03
    assert pandas_peer.round2(-0.05 / 2) == -0.03
    assert pandas_peer.round2(0.1 + 0.2) == 0.3
    assert pandas_peer.round2(None) is None
