"""crm-dbt handed to a dbt process started ahead of time (crm_analytics.dbt_warm): the same
output and exit codes as dbt run directly, nothing left running afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crm_analytics import dbt_warm
from crm_analytics.contract import DBT_PROJECT_DIR
from crm_analytics.dbt_main import WARM_SOCKET_ENV, _hand_off

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

CRM_DBT = str(Path(sys.executable).with_name("crm-dbt"))
LIST_SEEDS = [CRM_DBT, "ls", "--resource-type", "seed", "--profiles-dir", str(DBT_PROJECT_DIR)]


def _crm_dbt(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=False, env=env
    )


def test_crm_dbt_runs_in_the_warm_server_with_its_output_and_exit_code():
    with dbt_warm.started() as server:
        assert server is not None and os.environ[WARM_SOCKET_ENV].startswith("@")
        listed = _crm_dbt(LIST_SEEDS)
        # the server ran the invocation (an unused one would still wait for it) and is done
        assert server.wait(timeout=30) == 0
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "crm_analytics.iana_timezones" in listed.stdout
    assert "leaked" not in listed.stderr  # the server's exit reaches the same stream
    assert WARM_SOCKET_ENV not in os.environ


def test_a_failing_invocation_keeps_its_exit_code_through_the_server():
    direct = _crm_dbt([CRM_DBT, "no-such-command"])
    with dbt_warm.started() as server:
        handed_off = _crm_dbt([CRM_DBT, "no-such-command"])
        assert server.wait(timeout=30) == direct.returncode
    assert direct.returncode == handed_off.returncode == 2
    assert "No such command" in handed_off.stderr


def test_an_unused_server_is_stopped_when_the_block_ends():
    with dbt_warm.started() as server:
        pass
    assert server.returncode is not None


def test_crm_dbt_runs_dbt_itself_when_no_server_listens():
    env = {**os.environ, WARM_SOCKET_ENV: "@crm-dbt-nobody-listens-here"}
    listed = _crm_dbt(LIST_SEEDS, env=env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "crm_analytics.iana_timezones" in listed.stdout


def test_the_server_dies_with_a_killed_refresh():
    # a refresh killed mid-way (kill -9) must not leave a dbt that would hold its warehouse
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\n"
            "from crm_analytics import dbt_warm\n"
            "with dbt_warm.started() as server:\n"
            "    print(server.pid, flush=True)\n"
            "    time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    server_pid = int(parent.stdout.readline())
    assert Path(f"/proc/{server_pid}").exists()
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(server_pid)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie runs nothing and holds no file


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another user")
def test_the_server_takes_no_invocation_from_another_user():
    # an abstract socket has no permissions: the server itself refuses other users
    with dbt_warm.started() as server:
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the forked child
            os.setgid(65534)
            os.setuid(65534)
            taken = _hand_off(os.environ[WARM_SOCKET_ENV])
            os.write(write_end, repr(taken).encode())
            os._exit(0)
        os.close(write_end)
        os.waitpid(child, 0)
        with os.fdopen(read_end) as result:
            assert result.read() == "None"  # refused: the stranger would run dbt itself
        assert server.poll() is None  # still waiting for its own user's crm-dbt
        listed = _crm_dbt(LIST_SEEDS)
        assert server.wait(timeout=30) == 0
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "crm_analytics.iana_timezones" in listed.stdout


def test_dbt_closing_checkpoints_every_attached_file_while_the_database_is_open(tmp_path):
    import duckdb

    from crm_analytics.dbt_main import _checkpoint_files

    # as dbt's profile opens them: a working file, an attached serving file, an in-memory
    # scratch database, and no checkpoint before closing
    con = duckdb.connect(str(tmp_path / "work.duckdb"), config={"checkpoint_threshold": "1GB"})
    con.execute(f"attach '{tmp_path / 'serving.duckdb'}' as serving")
    con.execute("attach ':memory:' as scratch")
    for database in ("work", "serving", "scratch"):
        con.execute(f"create table {database}.t as select range as i from range(1000)")
    wals = [tmp_path / "work.duckdb.wal", tmp_path / "serving.duckdb.wal"]
    assert all(wal.exists() and wal.stat().st_size > 0 for wal in wals)
    _checkpoint_files(con)
    assert not any(wal.exists() and wal.stat().st_size > 0 for wal in wals)
    assert con.execute("select count(*) from serving.t").fetchone() == (1000,)
    con.close()
