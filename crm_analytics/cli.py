"""`crm-analytics`: refresh the pipeline, render reports, generate sample extracts.

Heavy imports (dagster, dbt) happen inside the subcommands that need them, so `report`
starts fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run() -> None:
    """The `crm-analytics` console script."""
    argv = sys.argv[1:]
    code = main(argv)
    if argv[:1] == ["refresh"]:
        # A refresh is done and its files are closed: Dagster's and dbt's object graphs in
        # this process need not be freed one by one.
        from crm_analytics import batch_process

        batch_process.exit_now(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-analytics", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    refresh = commands.add_parser("refresh", help="ingest, build, test, publish, render reports")
    refresh.add_argument("--landing", help="landing folder (default $CRM_LANDING or the sample)")
    refresh.add_argument("--warehouse", help="published warehouse file (default $CRM_WAREHOUSE)")
    refresh.add_argument("--reports-dir", help="report files folder (default $CRM_REPORTS_DIR)")
    refresh.add_argument(
        "--reports-config",
        help="report files to render (default $CRM_REPORTS_CONFIG or reports.yaml)",
    )
    refresh.add_argument(
        "--wait-seconds",
        type=float,
        default=600.0,
        help="wait this long for another refresh of the same warehouse (default 600; 0 = "
        "exit at once with a message)",
    )
    refresh.set_defaults(handler=_refresh)

    report = commands.add_parser("report", help="compute one report from the published marts")
    _report_arguments(report)
    report.set_defaults(handler=_report)

    generate = commands.add_parser("generate", help="write deterministic sample extracts")
    generate.add_argument("--out", required=True, help="landing folder to write")
    generate.add_argument("--scale", type=float, default=1.0, help="1 = ~1,000 clients")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument(
        "--period",
        choices=["day", "week"],
        default="day",
        help="one extract file per day (default) or per week",
    )
    generate.add_argument("--months", type=int, default=12, help="months of history")
    generate.add_argument(
        "--overwrite", action="store_true", help="replace extracts already in --out"
    )
    generate.set_defaults(handler=_generate)

    args = parser.parse_args(argv)
    return args.handler(args)


# Report options: (flag, params key, argparse extras). Values stay text; each report module
# validates its own parameters so that the rules live in one place.
_REPORT_OPTIONS: tuple[tuple[str, str, dict], ...] = (
    ("--from", "from", {"metavar": "TS"}),
    ("--to", "to", {"metavar": "TS"}),
    ("--location", "location", {"metavar": "ID"}),
    ("--promotion-type", "promotion_type", {}),
    ("--reactivation-days", "reactivation_days", {}),
    ("--regular-min-visits", "regular_min_visits", {}),
    ("--min-deals", "min_deals", {}),
    ("--window-days", "window_days", {}),
    ("--store", "store", {}),
    ("--associate", "associate", {}),
    ("--activity-type", "activity_types", {"action": "append"}),
    ("--search", "search", {}),
    ("--location-group", "location_group", {}),
    ("--visited-location", "visited_location", {"action": "append"}),
    ("--gender", "gender", {}),
    ("--online-booking", "online_booking", {}),
    ("--importance", "importance", {"action": "append"}),
    ("--spent-min", "spent_min", {}),
    ("--spent-max", "spent_max", {}),
    ("--visits-min", "visits_min", {}),
    ("--visits-max", "visits_max", {}),
    ("--booked-from", "booked_from", {}),
    ("--booked-to", "booked_to", {}),
    ("--not-booked-from", "not_booked_from", {}),
    ("--not-booked-to", "not_booked_to", {}),
    ("--sms-from", "sms_from", {}),
    ("--sms-to", "sms_to", {}),
    ("--sort", "sort", {}),
    ("--audience", "audience", {"action": "store_true"}),
)


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        metavar="NAME",
        help="promotions, chain-clients, repeat-clients, promo-codes, attributed-sales",
    )
    parser.add_argument("--role", default="analyst", help="analyst (default) or manager")
    parser.add_argument("--format", default="json", help="json (default), csv, xlsx or pdf")
    parser.add_argument("--out", help="file to write (json: stdout when omitted)")
    parser.add_argument("--section", help="only this section (csv: written exactly at --out)")
    parser.add_argument("--warehouse", help="published warehouse (default $CRM_WAREHOUSE)")
    for flag, key, extras in _REPORT_OPTIONS:
        parser.add_argument(flag, dest=f"param_{key}", **extras)


def _report(args: argparse.Namespace) -> int:
    from datetime import datetime

    import duckdb

    from crm_analytics.config import Settings
    from crm_analytics.reports.base import check_role, connect
    from crm_analytics.reports.errors import ReportError
    from crm_analytics.reports.registry import check_options, report_module
    from exporters import FORMATS, export

    params = {key: getattr(args, f"param_{key}") for _, key, _ in _REPORT_OPTIONS}
    try:
        _check_text(params)
        module = report_module(args.name)
        check_options(args.name, params)
        role = check_role(args.role)
        if args.format not in FORMATS:
            raise ReportError(f"--format must be one of {', '.join(FORMATS)}")
        out = _report_target(args, Settings.from_env(warehouse=args.warehouse))
        given = {key: value for key, value in params.items() if value not in (None, [], False)}
        with connect(Settings.from_env(warehouse=args.warehouse).warehouse) as con:
            result = module.run(con, given, role, datetime.now().replace(microsecond=0))
        if out is None:
            from exporters.json_export import render

            sys.stdout.write(render(result).decode("utf-8").rstrip("\n") + "\n")
            return 0
        written = export(result, args.format, out, section=args.section)
    except (ReportError, ValueError) as error:
        print(f"crm-analytics: error: {error}", file=sys.stderr)
        return 2
    except duckdb.Error as error:
        # e.g. a warehouse published by an older version: one line, never a traceback
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        print(f"crm-analytics: error: the warehouse query failed: {first_line}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def _check_text(params: dict) -> None:
    """Arguments that are not valid UTF-8 reach Python as lone surrogates; refuse them here
    with the option's name rather than fail inside the database driver."""
    from crm_analytics.reports.errors import ReportError

    for flag, key, _ in _REPORT_OPTIONS:
        values = params.get(key)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise ReportError(f"{flag} is not valid UTF-8 text") from None


def _report_target(args: argparse.Namespace, settings) -> Path | None:
    """--out as given; json without --out goes to stdout; other formats default to the
    reports folder."""
    if args.out:
        return Path(args.out)
    if args.format == "json":
        return None
    return settings.reports_dir / f"{args.name}.{args.format}"


def _refresh(args: argparse.Namespace) -> int:
    from crm_analytics import batch_process

    batch_process.tune_gc()  # before Dagster's import: 0.3 s of collections otherwise
    # dbt runs in a process of its own (crm-dbt). dagster-dbt imports dbt-core only to learn
    # its version and a few status names when this process can import it (0.9 s of every
    # refresh), and has its own otherwise: it is the deployment where dbt lives elsewhere.
    sys.modules.setdefault("dbt", None)  # type: ignore[arg-type]
    from crm_analytics.config import Settings
    from crm_analytics.locking import RefreshBusy, refresh_lock

    settings = Settings.from_env(
        args.landing, args.warehouse, args.reports_dir, args.reports_config
    )
    if not settings.landing.is_dir():
        print(f"crm-analytics: landing folder not found: {settings.landing}", file=sys.stderr)
        return 2
    try:
        # Taken before Dagster is even imported, so a busy warehouse is reported at once; the
        # run below takes the same lock again, which is a no-op in this process.
        with refresh_lock(
            settings.state_dir,
            wait_seconds=args.wait_seconds,
            on_wait=lambda message: print(f"crm-analytics: {message}", file=sys.stderr),
        ):
            from crm_analytics import dbt_warm
            from crm_analytics.build_plan import record_path
            from crm_analytics.publish import start_restoring_serving

            # An incremental build updates a copy of the published marts: start copying now,
            # beside the imports and the ingest below, rather than when dbt needs it. dbt's
            # own import starts now for the same reason.
            if record_path(settings.state_dir).exists():
                start_restoring_serving(settings.serving_db, settings.warehouse)
            with dbt_warm.started():
                from orchestration.refresh import run_refresh

                summary = run_refresh(settings, lock_wait_seconds=args.wait_seconds)
    except RefreshBusy as busy:
        print(f"crm-analytics: {busy}", file=sys.stderr)
        return 3
    print("\n".join(summary.lines()))
    return 0 if summary.success else 1


def _generate(args: argparse.Namespace) -> int:
    from crm_analytics.generate import generate

    summary = generate(
        Path(args.out),
        scale=args.scale,
        seed=args.seed,
        months=args.months,
        file_period=args.period,
        overwrite=args.overwrite,
    )
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
