"""Report names (the CLI's NAME) -> query module, and which options each one takes."""

from __future__ import annotations

import importlib
from types import ModuleType

from crm_analytics.reports.errors import ReportError

# The parameters each report accepts (params-dict keys; CLI options are their kebab case).
REPORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "promotions": (
        "promotions",
        ("from", "to", "location", "promotion_type", "reactivation_days", "regular_min_visits"),
    ),
    "chain-clients": (
        "chain_clients",
        (
            "search",
            "location_group",
            "visited_location",
            "gender",
            "online_booking",
            "importance",
            "spent_min",
            "spent_max",
            "visits_min",
            "visits_max",
            "booked_from",
            "booked_to",
            "not_booked_from",
            "not_booked_to",
            "sms_from",
            "sms_to",
            "sort",
            "audience",
        ),
    ),
    "repeat-clients": ("repeat_clients", ("from", "to", "location", "min_deals")),
    "promo-codes": ("promo_codes", ("from", "to", "location")),
    "attributed-sales": (
        "attributed_sales",
        ("from", "to", "window_days", "store", "associate", "activity_types"),
    ),
}


def report_module(name: str) -> ModuleType:
    if name not in REPORTS:
        raise ReportError(f"unknown report {name!r}: choose one of {', '.join(REPORTS)}")
    return importlib.import_module(f"crm_analytics.reports.{REPORTS[name][0]}")


def check_options(name: str, given: dict[str, object]) -> None:
    """Refuse options that do not apply to the report, rather than silently ignoring them."""
    accepted = REPORTS[name][1]
    for key, value in given.items():
        if value not in (None, [], False) and key not in accepted:
            option = "--" + ("activity-type" if key == "activity_types" else key.replace("_", "-"))
            raise ReportError(f"{option} does not apply to the {name} report")
