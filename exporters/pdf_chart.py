"""A daily series drawn as simple bars with labelled axes (fpdf2 has no charts)."""

from __future__ import annotations

import math
from decimal import Decimal

from fpdf import FPDF

from crm_analytics.reports.result import Section

from .pdf_fonts import FONT_FAMILY
from .values import NBSP, display_text, normalise_row

CHART_HEIGHT = 55.0  # mm, plot area
Y_AXIS_ROOM = 18.0  # mm left of the plot for tick values and the rotated axis title
BAR_FILL = (70, 110, 170)
GRID_GRAY = 210
TARGET_TICKS = 4
CHART_BLOCK_HEIGHT = CHART_HEIGHT + 26  # with title, x labels and axis title


def nice_ticks(lo: float, hi: float) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]."""
    raw = (hi - lo) / TARGET_TICKS
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [k * step for k in range(first, last + 1)]


def tick_label(value: float, step: float) -> str:
    if step >= 1:
        return f"{value:,.0f}".replace(",", NBSP)
    return f"{value:.2f}"


def chart_points(section: Section) -> list[tuple[str, float]]:
    spec = section.chart
    assert spec is not None
    by_name = {c.name: c for c in section.columns}
    for axis in (spec.x, spec.y):
        if axis not in by_name:
            raise ValueError(f"chart of section {section.key!r} names unknown column {axis!r}")
    x_col, y_col = by_name[spec.x], by_name[spec.y]
    points = []
    for row in section.rows:
        x, y = normalise_row(row, (x_col, y_col))
        # geometry only: float precision is plenty for bar heights
        points.append((display_text(x, x_col), float(y) if isinstance(y, int | Decimal) else 0.0))
    return points


def draw_bar_chart(pdf: FPDF, section: Section) -> None:
    spec = section.chart
    assert spec is not None
    points = chart_points(section)
    if not points:
        return
    if pdf.get_y() + CHART_BLOCK_HEIGHT > pdf.page_break_trigger:
        pdf.add_page()
    by_name = {c.name: c for c in section.columns}

    pdf.set_font(FONT_FAMILY, "B", 9)
    pdf.cell(0, 6, spec.title, align="C", new_x="LMARGIN", new_y="NEXT")

    x0, y0 = pdf.l_margin + Y_AXIS_ROOM, pdf.get_y() + 2
    width, height = pdf.epw - Y_AXIS_ROOM, CHART_HEIGHT
    values = [v for _, v in points]
    lo, hi = min(0.0, *values), max(0.0, *values)
    ticks = nice_ticks(lo, hi if hi > lo else lo + 1)
    if by_name[spec.y].kind == "integer" and ticks[1] - ticks[0] < 1:
        # counts never sit between whole numbers: 0, 1, 2 rather than 0.00, 0.50, 1.00
        ticks = [float(t) for t in range(math.floor(ticks[0]), math.ceil(ticks[-1]) + 1)]
    lo, hi = ticks[0], ticks[-1]

    def y_at(value: float) -> float:
        return y0 + height - (value - lo) / (hi - lo) * height

    pdf.set_font(FONT_FAMILY, "", 7)
    pdf.set_draw_color(GRID_GRAY)
    step = ticks[1] - ticks[0]
    for tick in ticks:
        pdf.line(x0, y_at(tick), x0 + width, y_at(tick))
        label = tick_label(tick, step)
        pdf.text(x0 - 1.5 - pdf.get_string_width(label), y_at(tick) + 1, label)

    slot = width / len(points)
    bar = slot * 0.7
    # local_context restores the fill colour: tables drawn later must not inherit the bars'
    with pdf.local_context(fill_color=BAR_FILL):
        for i, (_, value) in enumerate(points):
            top, bottom = y_at(max(value, 0.0)), y_at(min(value, 0.0))
            if bottom > top:
                pdf.rect(x0 + i * slot + (slot - bar) / 2, top, bar, bottom - top, style="F")

    pdf.set_draw_color(0)
    pdf.line(x0, y0, x0, y0 + height)
    pdf.line(x0, y_at(0.0), x0 + width, y_at(0.0))

    # label every k-th bar so labels never overlap, however many days the period has
    label_width = max(pdf.get_string_width(label) for label, _ in points) + 2
    every = max(1, math.ceil(label_width / slot))
    for i in range(0, len(points), every):
        label = points[i][0]
        centre = x0 + i * slot + slot / 2
        pdf.text(centre - pdf.get_string_width(label) / 2, y0 + height + 4, label)

    pdf.set_font(FONT_FAMILY, "B", 7)
    x_title = by_name[spec.x].header
    pdf.text(x0 + (width - pdf.get_string_width(x_title)) / 2, y0 + height + 9, x_title)
    y_title = by_name[spec.y].header
    tx, ty = pdf.l_margin + 3, y0 + (height + pdf.get_string_width(y_title)) / 2
    with pdf.rotation(90, x=tx, y=ty):
        pdf.text(tx, ty, y_title)

    pdf.set_xy(pdf.l_margin, y0 + height + 13)
