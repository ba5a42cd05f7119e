"""pdf (fpdf2): title, parameters, then each section as a table (daily chart as bars).

A4, landscape when any table has more than PORTRAIT_MAX_COLUMNS columns; DejaVu Sans
embedded so Cyrillic prints and extracts; table headers repeat on every page; columns
are sized to their content and a very wide table shrinks its font (pdf_table); long
cells are wrapped, and cut with "…" beyond MAX_CELL_CHARS / MAX_NESTED_LINES so one row
never outgrows a page; footer "Page N of M".
"""

from __future__ import annotations

from typing import Any

from fpdf import FPDF, FontFace

from crm_analytics.reports.result import Column, ReportResult, Section

from .params import header_items
from .pdf_chart import CHART_BLOCK_HEIGHT, draw_bar_chart
from .pdf_fonts import FONT_FAMILY, locate_fonts
from .pdf_table import FONT_SIZE, draw_table
from .values import NUMERIC_KINDS, display_text, normalise_row, param_text

PORTRAIT_MAX_COLUMNS = 6
MARGIN = 12.0
LINE_HEIGHT = 4.0
MAX_CELL_CHARS = 300
MAX_NESTED_LINES = 12
LABEL = FontFace(emphasis="BOLD")
ELLIPSIS = "…"
HEADING_KEEP = 30.0  # mm: heading plus a few table rows


class ReportPDF(FPDF):
    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT_FAMILY, "", 7)
        self.set_text_color(90)
        # "{nb}" is fpdf2's alias, replaced by the page count when the document closes
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0)


def is_wide(result: ReportResult) -> bool:
    return any(s.kind == "table" and len(s.columns) > PORTRAIT_MAX_COLUMNS for s in result.sections)


def cell_text(value: Any, column: Column) -> str:
    text = display_text(value, column)
    lines = text.split("\n")
    if len(lines) > MAX_NESTED_LINES:
        hidden = len(lines) - MAX_NESTED_LINES
        text = "\n".join([*lines[:MAX_NESTED_LINES], f"{ELLIPSIS} (+{hidden})"])
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + ELLIPSIS
    return text


def draw_section(pdf: FPDF, section: Section) -> None:
    # keep a heading with at least the start of its content (the whole chart if any)
    needed = HEADING_KEEP + (CHART_BLOCK_HEIGHT if section.chart and section.rows else 0)
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font(FONT_FAMILY, "B", 12)
    pdf.multi_cell(0, 7, section.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    columns = section.columns
    if section.kind == "record":
        values = normalise_row(section.record, columns)
        rows = [[c.header, cell_text(v, c)] for c, v in zip(columns, values, strict=True)]
        draw_table(pdf, ["Field", "Value"], rows, ("LEFT", "LEFT"))
        return
    if section.chart is not None and section.rows:
        draw_bar_chart(pdf, section)
    rows = [
        [cell_text(v, c) for c, v in zip(columns, normalise_row(row, columns), strict=True)]
        for row in section.rows
    ]
    aligns = tuple("RIGHT" if c.kind in NUMERIC_KINDS else "LEFT" for c in columns)
    draw_table(pdf, [c.header for c in columns], rows, aligns)
    if not rows:
        pdf.set_font(FONT_FAMILY, "", FONT_SIZE)
        pdf.cell(0, 6, "No rows.", new_x="LMARGIN", new_y="NEXT")


def draw_header(pdf: FPDF, result: ReportResult) -> None:
    pdf.set_font(FONT_FAMILY, "B", 16)
    pdf.multi_cell(0, 9, result.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT_FAMILY, "", FONT_SIZE)
    with pdf.table(
        width=pdf.epw,
        align="LEFT",
        col_widths=(1, 4),
        text_align="LEFT",
        first_row_as_headings=False,
        borders_layout="NONE",
        line_height=LINE_HEIGHT,
        padding=(0.5, 1),
    ) as table:
        for label, value in header_items(result):
            row = table.row()
            row.cell(label, style=LABEL)
            row.cell(param_text(value))


def render(result: ReportResult) -> bytes:
    fonts = locate_fonts()
    pdf = ReportPDF(orientation="L" if is_wide(result) else "P", unit="mm", format="A4")
    for style, path in fonts.items():
        pdf.add_font(FONT_FAMILY, style, str(path))
    pdf.set_title(result.title)
    pdf.set_creator("crm-analytics")
    # fixed from the result, not the clock, so the same result gives the same bytes
    pdf.set_creation_date(result.generated_at)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    draw_header(pdf, result)
    for section in result.sections:
        draw_section(pdf, section)
    return bytes(pdf.output())
