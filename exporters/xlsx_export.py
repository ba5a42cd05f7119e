"""xlsx (openpyxl): a "Parameters" sheet, then one sheet per section.

Layout decisions:
- a table section is a sheet with a bold, frozen header row and an autofilter; a record
  section is a two-column (Field, Value) sheet;
- numbers, dates and timestamps are real typed cells with number formats, so people can
  sort, filter and sum them;
- a `records` column (e.g. R5 purchase timeline) is shown in its table as compact JSON
  text, the same as in csv, and is also expanded on a detail sheet "<section> - <column>"
  with one typed row per nested record, prefixed by the parent row's first column so
  each nested row can be traced back to its parent;
- a section with a chart gets a native bar chart of y over x to the right of its table;
- the file is byte-for-byte deterministic: workbook properties and zip entry times are
  set from `generated_at`, never from the clock.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from crm_analytics.reports.result import Column, ReportResult, Section

from .params import header_items
from .values import (
    compact_json,
    display_text,
    json_value,
    normalise_row,
    param_text,
)
from .xlsx_layout import SheetNames, fit_width

NUMBER_FORMATS = {
    "money": "#,##0.00",
    "ratio": "0.00",
    "share": "0.00%",
    "percent": '0.00"%"',
    "integer": "0",
    "date": "yyyy-mm-dd",
    "timestamp": "yyyy-mm-dd hh:mm",
}
EXCEL_TEXT_LIMIT = 32767  # characters a cell can hold
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
CHART_WIDTH_CM = 20
CHART_HEIGHT_CM = 10
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def put(ws: Worksheet, row: int, col: int, value: Any) -> Cell:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)[:EXCEL_TEXT_LIMIT]
        # openpyxl stores text starting with "=" as a formula; names are data, never code
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def cell_value(value: Any, column: Column) -> Any:
    """A canonical value as an Excel cell value."""
    if value is None:
        return None
    if column.kind == "list":
        return ", ".join(value)
    if column.kind == "records":
        return compact_json(json_value(value, column))
    return value


def put_typed(ws: Worksheet, row: int, col: int, value: Any, column: Column) -> Cell:
    cell = put(ws, row, col, cell_value(value, column))
    number_format = NUMBER_FORMATS.get(column.kind)
    if number_format is not None:
        cell.number_format = number_format
    return cell


def put_header(ws: Worksheet, labels: list[str]) -> None:
    for j, label in enumerate(labels, start=1):
        cell = put(ws, 1, j, label)
        cell.font = BOLD
        cell.fill = HEADER_FILL
    ws.freeze_panes = "A2"  # keep the header visible while scrolling


def set_widths(ws: Worksheet, texts_per_column: list[list[str]]) -> None:
    for j, texts in enumerate(texts_per_column, start=1):
        ws.column_dimensions[get_column_letter(j)].width = fit_width(texts)


def width_text(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == "records":
        return compact_json(json_value(value, column))
    return display_text(value, column)


def write_table(ws: Worksheet, section: Section) -> None:
    columns = section.columns
    put_header(ws, [c.header for c in columns])
    texts = [[c.header] for c in columns]
    for i, row in enumerate(section.rows, start=2):
        for j, (column, value) in enumerate(zip(columns, normalise_row(row, columns), strict=True)):
            put_typed(ws, i, j + 1, value, column)
            texts[j].append(width_text(value, column))
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(section.rows) + 1}"
    set_widths(ws, texts)


def write_record(ws: Worksheet, section: Section) -> None:
    put_header(ws, ["Field", "Value"])
    values = normalise_row(section.record, section.columns)
    texts: list[list[str]] = [["Field"], ["Value"]]
    for i, (column, value) in enumerate(zip(section.columns, values, strict=True), start=2):
        put(ws, i, 1, column.header)
        put_typed(ws, i, 2, value, column)
        texts[0].append(column.header)
        texts[1].append(width_text(value, column))
    set_widths(ws, texts)


def detail_sections(section: Section) -> list[Section]:
    """One table per `records` column, each nested record a row under its parent's id."""
    parents = [c for c in section.columns if c.kind != "records"][:1]
    details = []
    for column in (c for c in section.columns if c.kind == "records"):
        nested = {f.name for f in column.fields}
        # a parent id sharing a nested field's name would be overwritten: rename it
        keys = tuple(
            Column(f"{section.key}.{p.name}", p.kind, p.header) if p.name in nested else p
            for p in parents
        )
        rows = []
        for row in section.rows:
            parent = {k.name: row.get(p.name) for k, p in zip(keys, parents, strict=True)}
            rows.extend({**parent, **record} for record in row.get(column.name) or [])
        details.append(
            Section(
                key=f"{section.key}.{column.name}",
                title=f"{section.title} - {column.header}",
                columns=(*keys, *column.fields),
                rows=rows,
            )
        )
    return details


def add_chart(ws: Worksheet, section: Section) -> None:
    spec = section.chart
    assert spec is not None
    names = [c.name for c in section.columns]
    for axis in (spec.x, spec.y):
        if axis not in names:
            raise ValueError(f"chart of section {section.key!r} names unknown column {axis!r}")
    x, y = names.index(spec.x) + 1, names.index(spec.y) + 1
    last = len(section.rows) + 1
    chart = BarChart()
    chart.type = "col"
    chart.title = spec.title
    chart.legend = None
    chart.add_data(Reference(ws, min_col=y, min_row=1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=x, min_row=2, max_row=last))
    chart.x_axis.title = section.columns[x - 1].header
    chart.y_axis.title = section.columns[y - 1].header
    chart.x_axis.number_format = NUMBER_FORMATS["date"]
    # openpyxl 3.1 marks axes deleted by default, which hides them in Excel
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    ws.add_chart(chart, f"{get_column_letter(len(section.columns) + 2)}2")


def parameter_cell(value: Any) -> tuple[Any, str | None]:
    """A parameter as a typed cell value and its number format."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value, NUMBER_FORMATS["timestamp"]
    if isinstance(value, date) and not isinstance(value, datetime):
        return value, NUMBER_FORMATS["date"]
    if isinstance(value, bool | int | Decimal | float):
        return value, None
    return (None if value is None else param_text(value)), None


def write_parameters(ws: Worksheet, result: ReportResult) -> None:
    put(ws, 1, 1, result.title).font = TITLE_FONT
    labels, values = [], []
    for i, (label, raw) in enumerate(header_items(result), start=3):
        put(ws, i, 1, label).font = BOLD
        value, number_format = parameter_cell(raw)
        cell = put(ws, i, 2, value)
        if number_format:
            cell.number_format = number_format
        labels.append(label)
        values.append(param_text(raw))
    set_widths(ws, [labels, values])


def build_workbook(result: ReportResult) -> Workbook:
    wb = Workbook()
    names = SheetNames()
    ws = wb.active
    ws.title = names.claim("Parameters")
    write_parameters(ws, result)
    for section in result.sections:
        ws = wb.create_sheet(names.claim(section.title))
        if section.kind == "record":
            write_record(ws, section)
        else:
            write_table(ws, section)
            if section.chart is not None and section.rows:
                add_chart(ws, section)
        for detail in detail_sections(section):
            write_table(wb.create_sheet(names.claim(detail.title)), detail)
    # core properties are UTC; generated_at is the machine's local time
    stamp = result.generated_at.astimezone(UTC).replace(tzinfo=None)
    wb.properties.creator = "crm-analytics"
    wb.properties.title = result.title
    wb.properties.created = stamp
    wb.properties.modified = stamp
    return wb


def restamp_zip(data: bytes, stamp: datetime) -> bytes:
    """Rewrite the archive with every entry dated `stamp` instead of the clock."""
    date_time = max(ZIP_EPOCH, tuple(stamp.timetuple())[:6])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def render(result: ReportResult) -> bytes:
    wb = build_workbook(result)
    buf = io.BytesIO()
    # ExcelWriter rather than wb.save: save() stamps `modified` with the clock
    archive = zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)
    ExcelWriter(wb, archive).save()  # closes the archive
    return restamp_zip(buf.getvalue(), result.generated_at)
