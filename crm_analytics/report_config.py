"""Scheduled report files: the instances listed in reports.yaml, their relative periods, and
rendering them into the reports folder (no Dagster here; the report assets wrap this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from crm_analytics.reports.base import ROLES, connect
from crm_analytics.reports.errors import ReportError
from crm_analytics.reports.registry import REPORTS, check_options, report_module

FORMATS = ("json", "csv", "xlsx", "pdf")
ANCHORS = ("today", "latest_data")


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _previous_month_start(day: date) -> date:
    return _month_start(_month_start(day) - timedelta(days=1))


# name -> (start, end) given the anchor day D (periods end at midnight of D unless noted)
PERIODS = {
    "last_full_month": lambda d: (_previous_month_start(d), _month_start(d)),
    "month_to_date": lambda d: (_month_start(d), d + timedelta(days=1)),
    "last_7_days": lambda d: (d - timedelta(days=7), d),
    "last_30_days": lambda d: (d - timedelta(days=30), d),
    "last_full_week": lambda d: (
        d - timedelta(days=d.weekday() + 7),
        d - timedelta(days=d.weekday()),
    ),
    "last_365_days": lambda d: (d - timedelta(days=365), d),
    "all_time": lambda d: (date(2000, 1, 1), d + timedelta(days=1)),
}


@dataclass(frozen=True)
class ReportInstance:
    name: str  # file stem, unique
    report: str  # registry name
    formats: tuple[str, ...]
    role: str = "analyst"
    period: str | None = None  # a PERIODS name, for reports that take one
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportConfig:
    anchor: str
    instances: tuple[ReportInstance, ...]


def load_config(path: Path) -> ReportConfig:
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    anchor = doc.get("anchor", "today")
    if anchor not in ANCHORS:
        raise ReportError(f"{path}: anchor must be one of {', '.join(ANCHORS)}")
    instances = []
    for index, item in enumerate(doc.get("reports") or [], 1):
        where = f"{path}: report #{index}"
        try:
            instance = ReportInstance(
                name=str(item["name"]),
                report=str(item["report"]),
                formats=tuple(item.get("formats") or ("json",)),
                role=str(item.get("role", "analyst")),
                period=item.get("period"),
                params=dict(item.get("params") or {}),
            )
        except (KeyError, TypeError) as error:
            raise ReportError(f"{where}: needs name and report ({error})") from None
        if instance.report not in REPORTS:
            raise ReportError(f"{where}: unknown report {instance.report!r}")
        if bad := [f for f in instance.formats if f not in FORMATS]:
            raise ReportError(f"{where}: unknown format(s) {', '.join(bad)}")
        if instance.role not in ROLES:
            raise ReportError(f"{where}: role must be one of {', '.join(ROLES)}")
        if instance.period is not None and instance.period not in PERIODS:
            raise ReportError(f"{where}: period must be one of {', '.join(PERIODS)}")
        check_options(instance.report, instance.params)
        instances.append(instance)
    names = [i.name for i in instances]
    if len(set(names)) != len(names):
        raise ReportError(f"{path}: report names must be unique")
    return ReportConfig(anchor=anchor, instances=tuple(instances))


def anchor_day(con, anchor: str, today: date) -> date:
    """The day relative periods end at: today, or the day after the newest realization (so
    a sample or a stale landing still fills its reports)."""
    if anchor == "today":
        return today
    (latest,) = con.execute("select max(posted_at) from marts.fct_sales").fetchone()
    return (latest.date() + timedelta(days=1)) if latest else today


@dataclass(frozen=True)
class RenderedReport:
    name: str
    files: tuple[Path, ...]
    row_counts: dict[str, int]  # section key -> rows
    period: tuple[datetime, datetime] | None


def render_instance(
    instance: ReportInstance,
    warehouse: Path,
    reports_dir: Path,
    anchor: str,
    now: datetime,
) -> RenderedReport:
    from exporters import export

    with connect(warehouse) as con:
        params = dict(instance.params)
        period = None
        if instance.period:
            start, end = PERIODS[instance.period](anchor_day(con, anchor, now.date()))
            period = (
                datetime.combine(start, datetime.min.time()),
                datetime.combine(end, datetime.min.time()),
            )
            params["from"], params["to"] = (p.isoformat(timespec="minutes") for p in period)
        result = report_module(instance.report).run(con, params, instance.role, now)
    files: list[Path] = []
    for fmt in instance.formats:
        files.extend(export(result, fmt, reports_dir / f"{instance.name}.{fmt}"))
    return RenderedReport(
        name=instance.name,
        files=tuple(files),
        row_counts={s.key: len(s.rows) for s in result.sections if s.kind == "table"},
        period=period,
    )
