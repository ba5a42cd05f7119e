"""Start dbt's process before the refresh needs it (see `crm_analytics.dbt_main`).

A refresh needs dbt only after Dagster is imported and the landing is ingested, and dbt spends
its first 1.6 s importing itself and its DuckDB adapter. `started()` launches that import as
the refresh begins, beside the others, and points `crm-dbt` at it through the environment;
whatever happens, the process is gone when the block ends.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from crm_analytics.dbt_main import WARM_SOCKET_ENV, listen


@contextmanager
def started() -> Iterator[subprocess.Popen[bytes] | None]:
    """The server's process while the block runs (None where there is none)."""
    if not sys.platform.startswith("linux") or WARM_SOCKET_ENV in os.environ:
        yield None  # abstract sockets and PR_SET_PDEATHSIG are Linux's; one server per process
        return
    address = f"@crm-dbt-{os.getpid()}-{secrets.token_hex(8)}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with listen(address) as listener:
        server = subprocess.Popen(
            # -P: the working directory stays off sys.path, as it is for the `crm-dbt` script
            # (dbt imports every `dbt_*` module it finds there as a plugin)
            [
                sys.executable,
                "-P",
                "-m",
                "crm_analytics.dbt_main",
                "--serve",
                str(listener.fileno()),
                str(os.getpid()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
            pass_fds=[listener.fileno()],
        )
    os.environ[WARM_SOCKET_ENV] = address
    try:
        yield server
    finally:
        del os.environ[WARM_SOCKET_ENV]
        if server.poll() is None:
            server.kill()  # never used (nothing to build, or the run failed before dbt)
        server.wait()
