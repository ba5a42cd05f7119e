"""`crm-analytics`: refresh the pipeline, render reports, generate sample extracts.

Heavy imports (dagster, dbt) happen inside the subcommands that need them, so `report`
starts fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-analytics", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    refresh = commands.add_parser("refresh", help="ingest, build, test, publish, render reports")
    refresh.add_argument("--landing", help="landing folder (default $CRM_LANDING or the sample)")
    refresh.add_argument("--warehouse", help="published warehouse file (default $CRM_WAREHOUSE)")
    refresh.add_argument("--reports-dir", help="report files folder (default $CRM_REPORTS_DIR)")
    refresh.set_defaults(handler=_refresh)

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
    generate.set_defaults(handler=_generate)

    args = parser.parse_args(argv)
    return args.handler(args)


def _refresh(args: argparse.Namespace) -> int:
    from crm_analytics.config import Settings
    from orchestration.refresh import run_refresh

    settings = Settings.from_env(args.landing, args.warehouse, args.reports_dir)
    if not settings.landing.is_dir():
        print(f"crm-analytics: landing folder not found: {settings.landing}", file=sys.stderr)
        return 2
    summary = run_refresh(settings)
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
    )
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
