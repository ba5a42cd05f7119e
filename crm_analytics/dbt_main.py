"""`crm-dbt`: dbt's command line with the garbage collector set for a short process.

The refresh runs dbt through this entry point. dbt holds its manifest, adapters and Jinja
environments for the whole invocation while every node allocates many short-lived objects;
with the default thresholds the collector traverses the long-lived ones again and again
(about 0.5-1 s of a one-day refresh at 10M rows). Everything loaded at start is frozen out
of its way and young objects are collected less often; cyclic garbage still is.
"""

import gc


def main() -> int:
    from dbt.cli.main import cli

    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        return cli()
    finally:
        # frozen objects are never freed: nanobind (duckdb) would report them leaked at exit
        gc.unfreeze()
