"""Exporters: pure functions from a ReportResult to report files.

    export(result, fmt, out, *, section=None) -> list[Path]

`fmt` is one of FORMATS. Each format module renders bytes without touching the disk
(json_export.render, csv_export.plan, xlsx_export.render, pdf_export.render); this
module checks the request and writes the files atomically, mode 0600 when they hold
contact data. `section` restricts any format to one section; for csv it also means
"write that section exactly at `out`" instead of one `<stem>.<key>.csv` per section.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from crm_analytics.reports.result import ReportResult

from .atomic import check_target, write_atomic
from .selection import check_access, select_section

__all__ = ["FORMATS", "export"]

FORMATS = ("json", "csv", "xlsx", "pdf")


def _renderer(fmt: str):
    # Format modules load on demand: fpdf and XlsxWriter cost time to import,
    # and `crm-analytics report --format json` should not pay for them.
    return importlib.import_module(f"{__name__}.{fmt}_export")


def export(
    result: ReportResult, fmt: str, out: Path | str, *, section: str | None = None
) -> list[Path]:
    """Write `result` as `fmt` at `out`; returns the paths written, in section order."""
    out = Path(out)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    check_target(out)
    chosen = select_section(result, section)
    check_access(chosen)
    private = chosen.contains_contacts
    if fmt == "csv":
        files = _renderer("csv").plan(chosen, out, exact=section is not None)
        # refuse before writing anything, so a bad target never leaves a partial set
        for path, _ in files:
            check_target(path)
    else:
        files = [(out, _renderer(fmt).render(chosen))]
    return [write_atomic(path, data, private=private) for path, data in files]
