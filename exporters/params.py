"""The parameters block shown on top of human formats (xlsx "Parameters", pdf)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_analytics.reports.result import ReportResult

from .values import param_text

# Report queries may name the period bounds differently; the first pair found wins.
PERIOD_KEYS = (
    ("from", "to"),
    ("from_", "to"),
    ("date_from", "date_to"),
    ("period_from", "period_to"),
    ("start", "end"),
)


def period_bounds(params: Mapping[str, Any]) -> tuple[Any, Any] | None:
    nested = params.get("period")
    if isinstance(nested, Mapping):
        return period_bounds(nested)
    if isinstance(nested, list | tuple) and len(nested) == 2:
        return nested[0], nested[1]
    for lo, hi in PERIOD_KEYS:
        if params.get(lo) is not None or params.get(hi) is not None:
            return params.get(lo), params.get(hi)
    return None


def period_text(params: Mapping[str, Any]) -> str | None:
    """`[from, to)` as "from – to", or None for a report without a period."""
    bounds = period_bounds(params)
    if bounds is None:
        return None
    return f"{param_text(bounds[0])} – {param_text(bounds[1])}"


def header_items(result: ReportResult) -> list[tuple[str, Any]]:
    """(label, raw value) pairs: report, period, every parameter, role, generated_at.

    Values stay raw so xlsx can write real date cells; pdf passes them to param_text.
    Every parameter is listed even when it also feeds the period line, so nothing a
    caller gave is hidden.
    """
    items: list[tuple[str, Any]] = [("Report", result.report)]
    period = period_text(result.params)
    if period is not None:
        items.append(("Period", period))
    items.extend((str(k), v) for k, v in result.params.items())
    items.append(("Role", result.role))
    items.append(("Generated at", result.generated_at))
    return items
