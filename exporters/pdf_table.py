"""Table layout for the pdf: column widths and font size that fit the page width."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fpdf import FPDF, FontFace

from .pdf_fonts import FONT_FAMILY

FONT_SIZE = 8.0
MIN_FONT_SIZE = 6.0  # wide tables shrink down to this before values start to wrap
LINE_HEIGHT_PER_PT = 0.5  # mm of line height per point of font size
CELL_PADDING_X = 1.2  # mm
CELL_PADDING_Y = 0.8  # mm
MAX_NATURAL_WIDTH = 70.0  # mm; a longer cell wraps rather than squeezing its neighbours
SHORT_VALUE_WIDTH = 28.0  # mm at FONT_SIZE; values this short (dates, phones) stay on one line
HEADINGS = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
ZWSP = "\u200b"  # a break opportunity fpdf2 honours, invisible when not used
HEADER_SEGMENTS = re.compile(r"[^\s_]*_?")


@dataclass(frozen=True)
class ColumnMeasure:
    natural: float  # fits the longest header word and cell line (capped), in mm
    minimum: float  # below this, short values or header segments would have to break
    header_word: float  # the longest header word, underscores not breaking it


def _measure(pdf: FPDF, size: float, header: str, cells: list[str]) -> ColumnMeasure:
    pad = 2 * CELL_PADDING_X + 1
    pdf.set_font(FONT_FAMILY, "B", size)
    word = max((pdf.get_string_width(w) for w in header.split()), default=0.0)
    segment = max((pdf.get_string_width(s) for s in HEADER_SEGMENTS.findall(header)), default=0.0)
    pdf.set_font(FONT_FAMILY, "", size)
    value = max(
        (
            min(MAX_NATURAL_WIDTH, pdf.get_string_width(line))
            for c in cells
            for line in c.split("\n")
        ),
        default=0.0,
    )
    short = SHORT_VALUE_WIDTH * size / FONT_SIZE
    return ColumnMeasure(
        natural=max(word, value) + pad,
        minimum=max(segment, min(value, short)) + pad,
        header_word=word + pad,
    )


def measure(
    pdf: FPDF, size: float, headers: list[str], rows: list[list[str]]
) -> list[ColumnMeasure]:
    return [_measure(pdf, size, h, [row[j] for row in rows]) for j, h in enumerate(headers)]


def fit_widths(measures: list[ColumnMeasure], total: float) -> list[float]:
    """Natural widths when they fit (a small table stays compact rather than stretched);
    else every column gets its minimum and the space left goes to the columns that want
    more, in proportion to how much more; else minimums scaled down to fit."""
    natural = [m.natural for m in measures]
    if sum(natural) <= total:
        return natural
    minimum = [m.minimum for m in measures]
    if sum(minimum) >= total:
        return [w * total / sum(minimum) for w in minimum]
    slack = [n - m for n, m in zip(natural, minimum, strict=True)]
    extra = total - sum(minimum)
    return [m + extra * s / sum(slack) for m, s in zip(minimum, slack, strict=True)]


@dataclass(frozen=True)
class TableLayout:
    font_size: float
    widths: list[float]
    headers: list[str]


def plan_layout(pdf: FPDF, headers: list[str], rows: list[list[str]], total: float) -> TableLayout:
    size = FONT_SIZE
    measures = measure(pdf, size, headers, rows)
    needed = sum(m.minimum for m in measures)
    if needed > total:
        size = max(MIN_FONT_SIZE, int(FONT_SIZE * total / needed * 10) / 10)
        measures = measure(pdf, size, headers, rows)
    widths = fit_widths(measures, total)
    # break field names at "_" only when the whole name cannot fit, so that usually the
    # header extracts as the exact field name
    shown = [
        h.replace("_", "_" + ZWSP) if w < m.header_word else h
        for h, w, m in zip(headers, widths, measures, strict=True)
    ]
    return TableLayout(size, widths, shown)


def draw_table(
    pdf: FPDF, headers: list[str], rows: list[list[str]], aligns: tuple[str, ...]
) -> None:
    """A table with a bold header row repeated on every page it spans."""
    layout = plan_layout(pdf, headers, rows, pdf.epw)
    pdf.set_font(FONT_FAMILY, "", layout.font_size)
    with pdf.table(
        width=sum(layout.widths),
        align="LEFT",
        col_widths=layout.widths,
        text_align=aligns,
        headings_style=HEADINGS,
        line_height=layout.font_size * LINE_HEIGHT_PER_PT,
        repeat_headings=1,
        padding=(CELL_PADDING_Y, CELL_PADDING_X),
    ) as table:
        table.row(layout.headers)
        for row in rows:
            table.row(row)
