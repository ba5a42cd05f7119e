"""Issue 4 for real: write-audit-publish, readers never block, SIGKILL, concurrent refreshes,
the landing sensor and the freshness check. Real processes, real DuckDB files."""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from dagster import RunRequest, SkipReason, build_sensor_context

from crm_analytics.config import Settings
from crm_analytics.locking import RefreshBusy, dbt_pid_file, refresh_lock
from orchestration.resources import PipelineSettings
from tests.pipeline import write_landing

CLI = str(Path(sys.executable).with_name("crm-analytics"))
REPORTS_YAML = """
anchor: latest_data
reports:
  - {name: repeat, report: repeat-clients, period: all_time, params: {min_deals: 1},
     formats: [json]}
"""


def clients(prefix: str, count: int, registered_at: str = "2025-01-01 10:00") -> list[dict]:
    return [
        {
            "client_id": f"{prefix}{i}",
            "location_id": "L1",
            "name": f"Клиент {prefix}{i}",
            "phone": f"+7 900 {i:03d}-{len(prefix):02d}-{ord(prefix[0]) % 100:02d}",
            "registered_at": registered_at,
        }
        for i in range(count)
    ]


def sales(prefix: str, count: int) -> list[dict]:
    return [
        {
            "sale_id": f"{prefix}-s{i}",
            "location_id": "L1",
            "client_id": f"{prefix}{i}",
            "amount": "100.00",
            "status": "posted",
            "posted_at": "2025-02-01 10:00",
            "created_at": "2025-02-01 10:00",
        }
        for i in range(count)
    ]


LOCATIONS = [{"location_id": "L1", "name": "Центр", "timezone": "Europe/Moscow"}]


def instance(root: Path) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "reports.yaml"
    config.write_text(REPORTS_YAML, encoding="utf-8")
    return Settings(
        landing=root / "landing",
        warehouse=root / "wh.duckdb",
        reports_dir=root / "reports",
        reports_config=config,
    )


def cli_refresh(settings: Settings, *extra: str, wait: bool = True):
    """The finished CompletedProcess, or the running Popen when wait is False."""
    command = [
        CLI,
        "refresh",
        "--landing",
        str(settings.landing),
        "--warehouse",
        str(settings.warehouse),
        "--reports-dir",
        str(settings.reports_dir),
        "--reports-config",
        str(settings.reports_config),
        *extra,
    ]
    if wait:
        return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_lock_holder(settings: Settings, pid: int, timeout: float = 60.0) -> None:
    """Until `pid` has written itself into the instance's lock file (it holds the lock)."""
    lock = settings.state_dir / "refresh.lock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text(encoding="ascii").strip() == str(pid):
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} never took {lock}")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def marts(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=repr) for t in tables}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Settings:
    """One instance refreshed once (a good landing published, its report rendered)."""
    settings = instance(tmp_path_factory.mktemp("template") / "instance")
    write_landing(
        settings.landing,
        {"locations": LOCATIONS, "clients": clients("a", 25), "sales": sales("a", 25)},
        "2025-02-01.csv",
    )
    done = cli_refresh(settings)
    assert done.returncode == 0, done.stderr[-3000:]
    return settings


@pytest.fixture
def published(template, tmp_path) -> Settings:
    """A private copy of the template instance: landing, state, warehouse and reports (the
    state holds no path the next refresh does not rewrite)."""
    root = tmp_path / "instance"
    shutil.copytree(template.landing.parent, root, symlinks=True)
    settings = instance(root)
    assert settings.warehouse.exists() and settings.state_dir.exists()
    return settings


def test_failed_blocking_test_leaves_published_warehouse_and_reports_untouched(published):
    before = digest(published.warehouse)
    report = published.reports_dir / "repeat.json"
    report_state = (report.read_bytes(), report.stat().st_mtime_ns)
    # 40 of the now 65 client rows cannot be read (a changed date format): more than the
    # allowed half of an entity quarantined, so assert_quarantine_share_within_limit fails
    write_landing(
        published.landing, {"clients": clients("b", 40, "02/01/2025 10:00")}, "2025-02-02.csv"
    )
    done = cli_refresh(published)
    assert done.returncode == 1
    assert "refresh FAILED" in done.stdout and " 0 failed" not in done.stdout
    assert digest(published.warehouse) == before
    assert (report.read_bytes(), report.stat().st_mtime_ns) == report_state


def test_failed_blocking_test_in_a_full_build_leaves_published_warehouse_untouched(published):
    # Data tests run beside the models in every build of a refresh, not as gates before their
    # children (crm_analytics/dbt_main.py): a full build must still publish nothing when one
    # fails. A new locations file makes the build full; the unreadable clients fail the
    # quarantine share test as above.
    before = digest(published.warehouse)
    write_landing(
        published.landing,
        {
            "locations": [{**LOCATIONS[0], "name": "Центр (после ремонта)"}],
            "clients": clients("b", 40, "02/01/2025 10:00"),
        },
        "2025-02-02.csv",
    )
    done = cli_refresh(published)
    assert done.returncode == 1
    assert "build: full" in done.stdout
    assert "refresh FAILED" in done.stdout and " 0 failed" not in done.stdout
    assert digest(published.warehouse) == before


READER = textwrap.dedent("""
    import sys, time, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    held = duckdb.connect(path, read_only=True)  # held open for the whole refresh
    first = held.execute("select count(*) from marts.dim_clients").fetchone()[0]
    print("ready", flush=True)
    seen = set()
    import os
    while not os.path.exists(stop):
        with duckdb.connect(path, read_only=True) as con:
            seen.add(con.execute(
                "select (select count(*) from marts.dim_clients),"
                " (select count(*) from marts.fct_sales)").fetchone())
        time.sleep(0.02)
    still = held.execute("select count(*) from marts.dim_clients").fetchone()[0]
    print(first, still, sorted(seen), flush=True)
""")


def test_reader_holding_the_warehouse_open_never_blocks_a_refresh(published, tmp_path):
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published.warehouse), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout.readline().strip() == "ready"
    write_landing(
        published.landing, {"clients": clients("c", 5), "sales": sales("c", 5)}, "2025-02-03.csv"
    )
    started = time.monotonic()
    done = cli_refresh(published)
    elapsed = time.monotonic() - started
    stop.touch()
    out, _ = reader.communicate(timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    first, still, seen = out.split(" ", 2)
    # the held connection keeps its snapshot; every fresh reader saw a whole old or a whole
    # new warehouse (25 clients/25 sales, then 30/30), never a half-built mart
    assert (first, still) == ("25", "25")
    assert set(ast.literal_eval(seen)) <= {(25, 25), (30, 30)}
    assert elapsed < 120


def test_sigkill_at_any_point_leaves_published_intact_and_next_refresh_succeeds(
    published, tmp_path
):
    before = digest(published.warehouse)
    old = marts(published.warehouse)
    write_landing(
        published.landing, {"clients": clients("d", 10), "sales": sales("d", 10)}, "2025-02-04.csv"
    )
    for delay in (1.0, 3.0, 6.0, 9.0):
        process = cli_refresh(published, wait=False)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        # whatever the moment, the published file is a whole warehouse: the old one, or
        # (killed after the rename) the complete new one
        current = marts(published.warehouse)
        assert digest(published.warehouse) == before or current != old
        assert len(current["marts.dim_clients"]) in (25, 35)
    done = cli_refresh(published)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    reference = instance(tmp_path / "reference")
    for path in published.landing.rglob("*.csv"):
        target = reference.landing / path.relative_to(published.landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    assert cli_refresh(reference).returncode == 0
    assert marts(published.warehouse) == marts(reference.warehouse)
    assert not list(published.warehouse.parent.glob(".wh.duckdb.publishing-*"))


def test_two_refreshes_at_once_never_write_together(published):
    write_landing(published.landing, {"clients": clients("e", 3)}, "2025-02-05.csv")
    first = cli_refresh(published, wait=False)
    wait_for_lock_holder(published, first.pid)
    second = cli_refresh(published, "--wait-seconds", "0")
    first_out, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_out + first_err[-2000:]
    assert second.returncode == 3
    assert "another refresh of this warehouse is running" in second.stderr
    assert second.stdout == ""  # it wrote nothing and ran nothing


def test_a_second_refresh_waits_for_the_first_by_default(published):
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(published.state_dir), "5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    done = cli_refresh(published)
    holder.communicate(timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert f"another refresh of this warehouse is running (pid {holder.pid})" in done.stderr
    assert "waiting up to 600 s" in done.stderr


LOCK_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from crm_analytics.locking import refresh_lock
    with refresh_lock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def test_refresh_lock_is_exclusive_and_released_by_a_killed_holder(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(tmp_path), "60"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RefreshBusy, match=f"pid {holder.pid}"), refresh_lock(tmp_path):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with refresh_lock(tmp_path):
        pass


def test_next_refresh_stops_the_dbt_a_killed_refresh_left_running(tmp_path):
    state = tmp_path / "state"
    target = state / "dbt" / "target"
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env={**os.environ, "DBT_TARGET_PATH": str(target)},
    )
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        state.mkdir()
        dbt_pid_file(state).write_text(str(orphan.pid))
        with refresh_lock(state):
            assert orphan.wait(timeout=10) == -signal.SIGKILL
        dbt_pid_file(state).write_text(str(unrelated.pid))
        with refresh_lock(state):
            pass
        assert unrelated.poll() is None  # not ours: left alone
    finally:
        unrelated.kill()
        orphan.kill()


def test_landing_sensor_requests_one_run_per_batch(tmp_path):
    settings = instance(tmp_path)
    write_landing(settings.landing, {"locations": LOCATIONS, "clients": clients("a", 2)})
    pipeline = PipelineSettings.from_settings(settings)
    from orchestration.sensors import landing_sensor

    def evaluate():
        with build_sensor_context(resources={"pipeline": pipeline}) as context:
            return landing_sensor(context)

    assert isinstance(evaluate(), SkipReason)  # just landed: still settling
    old = time.time() - 120
    for path in settings.landing.rglob("*.csv"):
        os.utime(path, (old, old))
    first, again = evaluate(), evaluate()
    assert isinstance(first, RunRequest) and first.run_key == again.run_key
    (settings.landing / "sales").mkdir()
    write_landing(settings.landing, {"sales": sales("a", 2)}, "2025-02-06.csv")
    for path in settings.landing.rglob("*.csv"):
        os.utime(path, (old, old))
    assert evaluate().run_key != first.run_key  # a new batch, a new run
    from crm_analytics.ingest import ingest

    ingest(settings.landing, settings.state_dir)
    assert isinstance(evaluate(), SkipReason)  # everything is in the ledger


def test_freshness_check_fails_when_newest_extract_is_too_old(tmp_path):
    from crm_analytics.ingest import ingest
    from orchestration.checks import landing_freshness

    settings = instance(tmp_path)
    write_landing(settings.landing, {"locations": LOCATIONS})
    stale = time.time() - 3 * 24 * 3600
    for path in settings.landing.rglob("*.csv"):
        os.utime(path, (stale, stale))
    ingest(settings.landing, settings.state_dir)
    result = landing_freshness(pipeline=PipelineSettings.from_settings(settings))
    assert not result.passed and "limit 36 h" in result.description
    fresh = PipelineSettings(
        landing=str(settings.landing),
        warehouse=str(settings.warehouse),
        reports_dir=str(settings.reports_dir),
        reports_config=str(settings.reports_config),
        max_extract_age_hours=100.0,
    )
    assert landing_freshness(pipeline=fresh).passed


def test_published_file_opens_in_a_duckdb_1_4_reader(template, tmp_path):
    # BI drivers often bundle DuckDB 1.4; a file in DuckDB 2.0's default storage version is
    # refused there ("can only read versions between 64 and 67"), ours must open.
    target = tmp_path / "duckdb14"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "install",
            "-q",
            "--target",
            str(target),
            "duckdb>=1.4,<1.5",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    code = (
        "import duckdb, sys\n"
        "assert duckdb.__version__.startswith('1.4'), duckdb.__version__\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(con.execute('select count(*) from marts.dim_clients').fetchone()[0])\n"
    )
    read = subprocess.run(
        [sys.executable, "-c", code, str(template.warehouse)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(target)},
    )
    assert read.returncode == 0, read.stderr[-2000:]
    assert read.stdout.strip() == "25"


def test_publishing_over_a_warehouse_frees_the_old_file_and_keeps_its_readers(tmp_path):
    from crm_analytics.publish import publish

    warehouse = tmp_path / "wh.duckdb"
    for generation in (1, 2):
        serving = tmp_path / "serving.duckdb"
        with duckdb.connect(str(serving)) as con:
            con.execute(f"create schema marts; create table marts.t as select {generation} as g")
        if generation == 1:
            publish(serving, warehouse)
            reader = duckdb.connect(str(warehouse), read_only=True)
            continue
        result = publish(serving, warehouse)
    assert result.tables == {"marts.t": 1}
    assert reader.execute("select g from marts.t").fetchone() == (1,)  # its snapshot
    reader.close()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select g from marts.t").fetchone() == (2,)
    # the old file's second name goes away in the background, never left for good
    deadline = time.monotonic() + 10
    while list(tmp_path.glob(".wh.duckdb.retired-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wh.duckdb"]
