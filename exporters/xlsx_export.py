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
from openpyxl.cell import WriteOnlyCell
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
    normalise_rows,
    param_text,
)
from .xlsx_layout import ColumnWidth, SheetNames

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


def text_cell(ws: Worksheet, text: str, *, font: Font | None = None) -> Cell:
    """A text cell: illegal characters dropped, cut to what a cell holds, never a formula
    or an error code (names are data, never code)."""
    cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", text)[:EXCEL_TEXT_LIMIT])
    cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def value_cell(ws: Worksheet, value: Any, number_format: str | None = None) -> Cell | None:
    if value is None:
        return None
    if isinstance(value, str):
        return text_cell(ws, value)
    cell = WriteOnlyCell(ws, value=value)
    if number_format is not None:
        cell.number_format = number_format
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


def typed_cell(ws: Worksheet, value: Any, column: Column) -> Cell | None:
    return value_cell(ws, cell_value(value, column), NUMBER_FORMATS.get(column.kind))


def header_row(ws: Worksheet, labels: list[str]) -> list[Cell]:
    cells = []
    for label in labels:
        cell = text_cell(ws, label, font=BOLD)
        cell.fill = HEADER_FILL
        cells.append(cell)
    return cells


def set_widths(ws: Worksheet, widths: list[ColumnWidth]) -> None:
    # a streamed sheet writes its column widths before its first row
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width.width


def width_text(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == "records":
        return compact_json(json_value(value, column))
    return display_text(value, column)


def write_table(ws: Worksheet, section: Section) -> None:
    """Streamed: the rows are measured for the column widths, then written."""
    columns = section.columns
    widths = [ColumnWidth(c.header) for c in columns]
    for values in normalise_rows(section.rows, columns):
        for width, column, value in zip(widths, columns, values, strict=True):
            if not width.at_most:
                width.fit(width_text(value, column))
    set_widths(ws, widths)
    ws.freeze_panes = "A2"  # keep the header visible while scrolling
    ws.append(header_row(ws, [c.header for c in columns]))
    for values in normalise_rows(section.rows, columns):
        ws.append([typed_cell(ws, v, c) for c, v in zip(columns, values, strict=True)])
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(section.rows) + 1}"


def write_record(ws: Worksheet, section: Section) -> None:
    values = normalise_row(section.record, section.columns)
    widths = [ColumnWidth("Field"), ColumnWidth("Value")]
    for column, value in zip(section.columns, values, strict=True):
        widths[0].fit(column.header)
        widths[1].fit(width_text(value, column))
    set_widths(ws, widths)
    ws.freeze_panes = "A2"
    ws.append(header_row(ws, ["Field", "Value"]))
    for column, value in zip(section.columns, values, strict=True):
        ws.append([text_cell(ws, column.header), typed_cell(ws, value, column)])


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
    items = header_items(result)
    widths = [ColumnWidth(), ColumnWidth()]
    for label, raw in items:
        widths[0].fit(label)
        widths[1].fit(param_text(raw))
    set_widths(ws, widths)
    ws.append([text_cell(ws, result.title, font=TITLE_FONT)])
    ws.append([])
    for label, raw in items:
        value, number_format = parameter_cell(raw)
        ws.append([text_cell(ws, label, font=BOLD), value_cell(ws, value, number_format)])


def build_workbook(result: ReportResult) -> Workbook:
    # write-only: every sheet streams to a temporary file as it is written, so a
    # million-row table holds no cell objects (the in-memory workbook needed 6 GB for one)
    wb = Workbook(write_only=True)
    names = SheetNames()
    write_parameters(wb.create_sheet(names.claim("Parameters")), result)
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
