"""xlsx (XlsxWriter): a "Parameters" sheet, then one sheet per section.

Layout decisions:
- a table section is a sheet with a bold, frozen header row and an autofilter; a record
  section is a two-column (Field, Value) sheet;
- numbers, dates and timestamps are real typed cells with number formats, so people can
  sort, filter and sum them; text is always written as text, never read as a formula;
- a `records` column (e.g. R5 purchase timeline) is shown in its table as compact JSON
  text, the same as in csv, and is also expanded on a detail sheet "<section> - <column>"
  with one typed row per nested record, prefixed by the parent row's first column so
  each nested row can be traced back to its parent;
- a section with a chart gets a native bar chart of y over x to the right of its table;
- rows are streamed (constant memory): a million-row table holds no cell objects;
- the file is byte-for-byte deterministic: workbook properties and zip entry times are
  set from `generated_at`, never from the clock.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

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
from .xlsx_layout import ILLEGAL_CHARACTERS_RE, ColumnWidth, SheetNames

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
HEADER_FILL = "#DDDDDD"
CHART_WIDTH_CM = 20
CHART_HEIGHT_CM = 10
PIXELS_PER_CM = 96 / 2.54
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry

# (worksheet, row, column, value) -> None; row and column count from 0
CellWriter = Callable[[Worksheet, int, int, Any], None]


class Formats:
    """The workbook's cell formats, created once each."""

    def __init__(self, wb: Workbook) -> None:
        self.bold = wb.add_format({"bold": True})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.header = wb.add_format({"bold": True, "bg_color": HEADER_FILL, "pattern": 1})
        self._wb = wb
        self._numbers: dict[str, Format] = {}

    def number(self, number_format: str) -> Format:
        if number_format not in self._numbers:
            self._numbers[number_format] = self._wb.add_format({"num_format": number_format})
        return self._numbers[number_format]


def clean_text(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:EXCEL_TEXT_LIMIT]


def write_text(ws: Worksheet, row: int, col: int, text: str, fmt: Format | None = None) -> None:
    ws.write_string(row, col, clean_text(text), fmt)


def write_value(ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
    """Any canonical or parameter value in its cell type; None leaves the cell empty."""
    if value is None:
        return
    if isinstance(value, str):
        write_text(ws, row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float | Decimal):
        ws.write_number(row, col, float(value) if isinstance(value, Decimal) else value, fmt)
    elif isinstance(value, datetime | date):
        ws.write_datetime(row, col, value, fmt)
    else:
        raise TypeError(f"no xlsx cell for {type(value).__name__} {value!r}")


def cell_writer(column: Column, formats: Formats) -> CellWriter:
    """How one column's canonical values are written, chosen once per column."""
    number_format = NUMBER_FORMATS.get(column.kind)
    fmt = formats.number(number_format) if number_format else None
    if column.kind == "list":
        return lambda ws, r, c, v: write_text(ws, r, c, ", ".join(v))
    if column.kind == "records":
        return lambda ws, r, c, v: write_text(ws, r, c, compact_json(json_value(v, column)))
    return lambda ws, r, c, v: write_value(ws, r, c, v, fmt)


def width_text(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == "records":
        return compact_json(json_value(value, column))
    return display_text(value, column)


def set_widths(ws: Worksheet, widths: list[ColumnWidth]) -> None:
    for j, width in enumerate(widths):
        ws.set_column(j, j, width.width)


def write_header(ws: Worksheet, labels: list[str], formats: Formats) -> None:
    for j, label in enumerate(labels):
        write_text(ws, 0, j, label, formats.header)
    ws.freeze_panes(1, 0)  # keep the header visible while scrolling


def write_table(ws: Worksheet, section: Section, formats: Formats) -> None:
    columns = section.columns
    write_header(ws, [c.header for c in columns], formats)
    writers = [cell_writer(c, formats) for c in columns]
    widths = [ColumnWidth(c.header) for c in columns]
    row = 0
    for row, values in enumerate(normalise_rows(section.rows, columns), start=1):
        for j, (column, write, width, value) in enumerate(
            zip(columns, writers, widths, values, strict=True)
        ):
            if value is not None:
                write(ws, row, j, value)
            if not width.at_most:
                width.fit(width_text(value, column))
    if columns:
        ws.autofilter(0, 0, row, len(columns) - 1)
    set_widths(ws, widths)


def write_record(ws: Worksheet, section: Section, formats: Formats) -> None:
    write_header(ws, ["Field", "Value"], formats)
    values = normalise_row(section.record, section.columns)
    widths = [ColumnWidth("Field"), ColumnWidth("Value")]
    for i, (column, value) in enumerate(zip(section.columns, values, strict=True), start=1):
        write_text(ws, i, 0, column.header)
        if value is not None:
            cell_writer(column, formats)(ws, i, 1, value)
        widths[0].fit(column.header)
        widths[1].fit(width_text(value, column))
    set_widths(ws, widths)


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


def sheet_range(sheet: str, col: int, first_row: int, last_row: int) -> str:
    """An absolute range on a sheet; rows count from 1 as Excel shows them."""
    name = sheet.replace("'", "''")
    letter = xl_col_to_name(col)
    return f"='{name}'!${letter}${first_row}:${letter}${last_row}"


def add_chart(wb: Workbook, ws: Worksheet, section: Section) -> None:
    spec = section.chart
    assert spec is not None
    names = [c.name for c in section.columns]
    for axis in (spec.x, spec.y):
        if axis not in names:
            raise ValueError(f"chart of section {section.key!r} names unknown column {axis!r}")
    x, y = names.index(spec.x), names.index(spec.y)
    last = len(section.rows) + 1
    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": sheet_range(ws.name, y, 1, 1).split(":")[0],
            "categories": sheet_range(ws.name, x, 2, last),
            "values": sheet_range(ws.name, y, 2, last),
        }
    )
    chart.set_title({"name": spec.title})
    chart.set_legend({"none": True})
    chart.set_x_axis({"name": section.columns[x].header, "num_format": NUMBER_FORMATS["date"]})
    chart.set_y_axis({"name": section.columns[y].header})
    chart.set_size(
        {"width": CHART_WIDTH_CM * PIXELS_PER_CM, "height": CHART_HEIGHT_CM * PIXELS_PER_CM}
    )
    ws.insert_chart(1, len(section.columns) + 1, chart)


def parameter_cell(value: Any) -> tuple[Any, str | None]:
    """A parameter as a typed cell value and its number format."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value, NUMBER_FORMATS["timestamp"]
    if isinstance(value, date) and not isinstance(value, datetime):
        return value, NUMBER_FORMATS["date"]
    if isinstance(value, bool | int | Decimal | float):
        return value, None
    return (None if value is None else param_text(value)), None


def write_parameters(ws: Worksheet, result: ReportResult, formats: Formats) -> None:
    write_text(ws, 0, 0, result.title, formats.title)
    widths = [ColumnWidth(), ColumnWidth()]
    for i, (label, raw) in enumerate(header_items(result), start=2):
        write_text(ws, i, 0, label, formats.bold)
        value, number_format = parameter_cell(raw)
        write_value(ws, i, 1, value, formats.number(number_format) if number_format else None)
        widths[0].fit(label)
        widths[1].fit(param_text(raw))
    set_widths(ws, widths)


def write_workbook(result: ReportResult, out: io.BytesIO) -> None:
    # constant memory: each row goes to a temporary file once the next one starts
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
    formats = Formats(wb)
    names = SheetNames()
    write_parameters(wb.add_worksheet(names.claim("Parameters")), result, formats)
    for section in result.sections:
        ws = wb.add_worksheet(names.claim(section.title))
        if section.kind == "record":
            write_record(ws, section, formats)
        else:
            write_table(ws, section, formats)
            if section.chart is not None and section.rows:
                add_chart(wb, ws, section)
        for detail in detail_sections(section):
            write_table(wb.add_worksheet(names.claim(detail.title)), detail, formats)
    # core properties are UTC; generated_at is the machine's local time
    stamp = result.generated_at.astimezone(UTC).replace(tzinfo=None)
    wb.set_properties({"title": result.title, "author": "crm-analytics", "created": stamp})
    wb.close()


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
    buf = io.BytesIO()
    write_workbook(result, buf)
    return restamp_zip(buf.getvalue(), result.generated_at)
