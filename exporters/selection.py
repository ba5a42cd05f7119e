"""What an export may contain: the chosen sections, and only data the role may see."""

from __future__ import annotations

from dataclasses import replace

from crm_analytics.reports.result import ReportResult

CONTACT_ROLE = "manager"


def select_section(result: ReportResult, key: str | None) -> ReportResult:
    """The result restricted to section `key` (all sections when None)."""
    if key is None:
        return result
    keys = [s.key for s in result.sections]
    if key not in keys:
        known = ", ".join(keys) or "none"
        raise ValueError(f"report {result.report!r} has no section {key!r} (sections: {known})")
    return replace(result, sections=[result.section(key)])


def check_access(result: ReportResult) -> None:
    """Last line of defence: the queries drop contact columns for other roles, but a
    file is where a leak becomes permanent, so the exporter refuses rather than trusts."""
    if result.contains_contacts and result.role != CONTACT_ROLE:
        sections = sorted({s.key for s in result.sections for c in s.columns if c.contact})
        raise ValueError(
            f"refused: sections {', '.join(sections)} hold contact data, "
            f"which role {result.role!r} may not export (only {CONTACT_ROLE!r})"
        )
