"""json: the contract an independent checker reads (spec/reports.md, Interfaces)."""

from __future__ import annotations

import json
from typing import Any

from crm_analytics.reports.result import ReportResult, Section

from .values import json_converter, normalise_rows, param_json

# Tables are written one row per line, each row by the C encoder: an indented dump goes
# through json's pure-Python encoder, about 15 s for a million-client list.
_ROW = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_INDENT = "  "


def section_data(section: Section) -> dict[str, Any] | list[dict[str, Any]]:
    """A record section as one object, a table as a list of objects, in column order."""
    rows = list(_json_rows(section))
    if section.kind == "record":
        return rows[0] if rows else {c.name: None for c in section.columns}
    return rows


def _json_rows(section: Section):
    columns = section.columns
    names = [c.name for c in columns]
    converters = [json_converter(c) for c in columns]
    for values in normalise_rows(section.rows, columns):
        yield {
            name: None if value is None else convert(value)
            for name, convert, value in zip(names, converters, values, strict=True)
        }


def document(result: ReportResult) -> dict[str, Any]:
    # Only the keys the contract names: a checker comparing keys exactly must not trip
    # over extras such as title or generated_at (those go to the human formats).
    doc: dict[str, Any] = {"report": result.report, "params": param_json(result.params)}
    for section in result.sections:
        doc[section.key] = section_data(section)
    return doc


def render(result: ReportResult) -> bytes:
    """The document of `document()`: indented, except that a table has one row per line."""
    head = {"report": result.report, "params": param_json(result.params)}
    members = [(key, [_indented(value)]) for key, value in head.items()]
    for section in result.sections:
        if section.kind == "record":
            members.append((section.key, [_indented(section_data(section))]))
        else:
            members.append((section.key, _table(section)))
    # bytes part by part: a million-row table is never held as one str besides its bytes
    parts = [b"{\n"]
    for index, (key, body) in enumerate(members):
        parts.append(f"{_INDENT}{_ROW.encode(key)}: ".encode())
        parts.extend(body)
        parts.append(b",\n" if index < len(members) - 1 else b"\n")
    parts.append(b"}\n")
    return b"".join(parts)


def _indented(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, indent=len(_INDENT), allow_nan=False)
    return text.replace("\n", "\n" + _INDENT).encode()


def _table(section: Section) -> list[bytes]:
    separator = ("\n" + _INDENT * 2).encode()
    parts = []
    for row in _json_rows(section):
        parts.append(b",")
        parts.append(separator)
        parts.append(_ROW.encode(row).encode())
    if not parts:
        return [b"[]"]
    parts[0] = b"["
    parts.append(("\n" + _INDENT + "]").encode())
    return parts
