"""csv: one UTF-8 (with BOM, so Excel detects the encoding) file per section."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from crm_analytics.reports.result import ReportResult, Section

from .values import csv_text, normalise_rows


def render_section(section: Section) -> bytes:
    buf = io.StringIO()
    # CRLF is what RFC 4180 and Excel expect
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.name for c in section.columns])
    for values in normalise_rows(section.rows, section.columns):
        writer.writerow([csv_text(v, c) for c, v in zip(section.columns, values, strict=True)])
    return buf.getvalue().encode("utf-8-sig")


def section_path(out: Path, key: str) -> Path:
    """x.csv -> x.<key>.csv"""
    suffix = out.suffix or ".csv"
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return out.with_name(f"{stem}.{key}{suffix}")


def plan(result: ReportResult, out: Path, *, exact: bool) -> list[tuple[Path, bytes]]:
    """(path, content) per section; `exact` writes the single chosen section at `out`."""
    if exact:
        (section,) = result.sections
        return [(out, render_section(section))]
    return [(section_path(out, s.key), render_section(s)) for s in result.sections]
