"""json: the contract an independent checker reads (spec/reports.md, Interfaces)."""

from __future__ import annotations

import json
from typing import Any

from crm_analytics.reports.result import ReportResult, Section

from .values import json_value, normalise_row, param_json


def section_data(section: Section) -> dict[str, Any] | list[dict[str, Any]]:
    """A record section as one object, a table as a list of objects, in column order."""
    columns = section.columns
    rows = [
        {c.name: json_value(v, c) for c, v in zip(columns, values, strict=True)}
        for values in (normalise_row(row, columns) for row in section.rows)
    ]
    if section.kind == "record":
        return rows[0] if rows else {c.name: None for c in section.columns}
    return rows


def document(result: ReportResult) -> dict[str, Any]:
    # Only the keys the contract names: a checker comparing keys exactly must not trip
    # over extras such as title or generated_at (those go to the human formats).
    doc: dict[str, Any] = {"report": result.report, "params": param_json(result.params)}
    for section in result.sections:
        doc[section.key] = section_data(section)
    return doc


def render(result: ReportResult) -> bytes:
    text = json.dumps(document(result), ensure_ascii=False, indent=2, allow_nan=False)
    return (text + "\n").encode("utf-8")
