"""`crm-dbt`: dbt's command line with the garbage collector set for a short process, and
optionally handed to a dbt process that was started (and imported dbt) ahead of time.

The refresh runs dbt through this entry point. dbt holds its manifest, adapters and Jinja
environments for the whole invocation while every node allocates many short-lived objects;
with the default thresholds the collector traverses the long-lived ones again and again
(about 0.5-1 s of a one-day refresh at 10M rows). Everything loaded at start is frozen out
of its way and young objects are collected less often; cyclic garbage still is.

Importing dbt and its DuckDB adapter takes about 1.6 s, and in a refresh it used to happen
only after the ingest, on the critical path. `crm_analytics.dbt_warm` starts a server
(`python -m crm_analytics.dbt_main --serve FD PARENT_PID`) as the refresh begins, so that import
overlaps Dagster's import and the ingest. When dagster-dbt later runs `crm-dbt build ...`, this
process passes its arguments, environment, working directory and standard streams to the
server and exits with the server's exit code: dbt runs exactly as it would here, only already
imported. Without a server (`CRM_DBT_WARM_SOCKET` unset, or nobody listening) it runs dbt itself.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any

from crm_analytics import batch_process, build_schedule

WARM_SOCKET_ENV = "CRM_DBT_WARM_SOCKET"
NO_TEST_GATES_ENV = "CRM_DBT_NO_TEST_GATES"
_HEADER = struct.Struct("!Q")
_STREAMS = (0, 1, 2)


def main() -> int:
    address = os.environ.get(WARM_SOCKET_ENV)
    if address:
        code = _hand_off(address)
        if code is not None:
            return code
    return _run_dbt()


def _run_dbt() -> int:
    from dbt.cli.main import cli

    restore_gates = _without_test_gates()
    restore_order = _order_by_critical_path()
    restore_manifest = _manifest_written_at_the_end_only()
    gc.freeze()
    batch_process.tune_gc()
    try:
        return cli()
    finally:
        restore_manifest()
        restore_order()
        restore_gates()
        _close_databases()
        # frozen objects are never freed: nanobind (duckdb) would report them leaked at exit
        gc.unfreeze()


def _order_by_critical_path() -> Callable[[], None]:
    """Start the ready node with the longest chain of work after it, given the refresh's
    estimates (`build_schedule`); returns what puts dbt's own order back.

    dbt's queue hands out ready nodes by score, but its run loop takes every ready node at
    once and queues it in the thread pool, first come first served: a node that becomes
    ready later waits behind all of them whatever its score. So the queue also hands out a
    node only when a thread is free to run it.

    The refresh writes estimates for incremental builds only."""
    seconds = build_schedule.read_schedule(os.environ.get("DBT_TARGET_PATH"))
    if not seconds:
        return lambda: None
    from dbt.graph.queue import GraphQueue
    from dbt.task.runnable import GraphRunnableTask

    own = {
        (GraphQueue, "_get_scores"): GraphQueue.__dict__["_get_scores"],
        (GraphQueue, "get"): GraphQueue.__dict__["get"],
        (GraphRunnableTask, "execute_nodes"): GraphRunnableTask.__dict__["execute_nodes"],
    }
    own_get = own[(GraphQueue, "get")]
    own_execute_nodes = own[(GraphRunnableTask, "execute_nodes")]

    def scores(_queue: Any, graph: Any) -> dict[str, float]:
        return build_schedule.critical_path_scores(graph.nodes, graph.edges, seconds)

    def get(queue: Any, block: bool = True, timeout: float | None = None) -> Any:
        threads = getattr(queue, "crm_threads", None)
        if threads and block:
            with queue.lock:
                while len(queue.in_progress) >= threads:
                    queue.some_task_done.wait()
        return own_get(queue, block, timeout)

    def execute_nodes(task: Any) -> Any:
        task.job_queue.crm_threads = task.config.threads
        return own_execute_nodes(task)

    GraphQueue._get_scores = scores  # type: ignore[method-assign]
    GraphQueue.get = get  # type: ignore[method-assign]
    GraphRunnableTask.execute_nodes = execute_nodes  # type: ignore[method-assign]

    def restore() -> None:
        for (owner, name), function in own.items():
            setattr(owner, name, function)

    return restore


def _without_test_gates() -> Callable[[], None]:
    """`dbt build` makes every model wait for the data tests of its parents. The refresh
    publishes only after the whole build passed (write-audit-publish), so a failing test still
    stops the publish; as gates the tests only held the models after them back (in a full build
    at 10M realizations, the key tests of stg_crm__sales and fct_sales: 3.4 s on its longest
    chain). Only in the builds of a refresh (`CRM_DBT_NO_TEST_GATES`, set by the dbt asset):
    a `dbt build` by hand keeps dbt's gates. Returns what puts them back."""
    if os.environ.get(NO_TEST_GATES_ENV) != "1":
        return lambda: None
    from dbt.compilation import Compiler

    own_compile = Compiler.__dict__["compile"]

    def compile_without_test_gates(compiler: Any, manifest: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["add_test_edges"] = False
        if len(args) > 1:
            args = args[:1]
        return own_compile(compiler, manifest, *args, **kwargs)

    Compiler.compile = compile_without_test_gates  # type: ignore[method-assign]

    def restore() -> None:
        Compiler.compile = own_compile  # type: ignore[method-assign]

    return restore


def _manifest_written_at_the_end_only() -> Callable[[], None]:
    """dbt writes manifest.json once it has loaded the manifest and again when the build ends:
    the first write (0.2-0.3 s before any node starts, every refresh) is skipped in the builds
    of a refresh, which nothing reads before the second. Returns what puts it back."""
    if os.environ.get(NO_TEST_GATES_ENV) != "1":  # set around the refresh's `dbt build` only
        return lambda: None
    import dbt.parser.manifest as parser_manifest
    import dbt.task.runnable  # noqa: F401  binds its own reference, the write at the end

    own_write = parser_manifest.write_manifest
    parser_manifest.write_manifest = lambda *args, **kwargs: None

    def restore() -> None:
        parser_manifest.write_manifest = own_write

    return restore


def socket_address(address: str) -> str:
    """`@name` is a Linux abstract socket (no file, no path length limit); an environment
    variable cannot hold the NUL byte that spells it."""
    return "\0" + address[1:] if address.startswith("@") else address


def _hand_off(address: str) -> int | None:
    """Run this invocation in the warm server; None when there is none to take it."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(socket_address(address))
    except OSError:
        client.close()
        return None
    request = json.dumps({"argv": sys.argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    with client:
        try:
            socket.send_fds(client, [_HEADER.pack(len(request))], list(_STREAMS))
            client.sendall(request)
            replies = client.makefile("rb")
            server_pid = int(replies.readline())
        except (OSError, ValueError):
            return None  # the server went away before taking the invocation
        # dagster-dbt interrupts its dbt process with SIGINT: that process is the server now
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda received, _frame: os.kill(server_pid, received))
        line = replies.readline()
    if not line:
        print(f"crm-dbt: the dbt process {server_pid} ended without an exit code", file=sys.stderr)
        return 1
    return int(line)


def listen(address: str) -> socket.socket:
    """The server's socket, bound and listening before the server starts, so a `crm-dbt` that
    comes early waits for it instead of finding nobody there."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_address(address))
    listener.listen(1)
    return listener


def serve(listener_fd: int, parent_pid: int) -> int:
    """Import dbt, then run the one invocation a `crm-dbt` process hands over."""
    _die_with(parent_pid)
    batch_process.tune_gc()  # before dbt's import
    listener = socket.socket(fileno=listener_fd)
    # the point of this process: the imports, done before anyone asks for dbt
    import dbt.adapters.duckdb
    import dbt.cli.main  # noqa: F401

    connection = _accept_own_user(listener)
    listener.close()
    with connection:
        header, fds, _, _ = socket.recv_fds(connection, _HEADER.size, len(_STREAMS))
        header += _receive(connection, _HEADER.size - len(header))
        request = json.loads(_receive(connection, _HEADER.unpack(header)[0]))
        connection.sendall(f"{os.getpid()}\n".encode())
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for target, fd in zip(_STREAMS, fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        sys.argv = request["argv"]
        try:
            code = _run_dbt()
        except SystemExit as exit_:
            code = _exit_code(exit_.code)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        connection.sendall(f"{code}\n".encode())
    return code


def _close_databases() -> None:
    """Checkpoint and close DuckDB now rather than in dbt-duckdb's exit handler, which
    checkpoints one file after the other: the working warehouse and the serving database are
    checkpointed at once (one more day at 10M rows: 1.3 s instead of 2.2 s)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    # dbt-duckdb keeps one database handle per process; none when the target is not DuckDB
    environment = DuckDBConnectionManager._ENV
    connection = getattr(environment, "conn", None)
    if connection is not None:
        _checkpoint_files(connection)
    DuckDBConnectionManager.close_all_connections()
    gc.collect()  # the environment holding the database, if a cycle keeps it (young: cheap)


def _checkpoint_files(connection: Any) -> None:
    import duckdb

    files = connection.execute(
        "select database_name from duckdb_databases() "
        "where not internal and not readonly and path is not null"
    ).fetchall()

    def checkpoint(cursor: Any, name: str) -> None:
        try:
            cursor.execute('checkpoint "' + name.replace('"', '""') + '"')
        except duckdb.Error:
            pass  # e.g. a transaction still open: closing the database checkpoints it then
        finally:
            cursor.close()

    # the cursors are opened here, one thread at a time; each checkpoint then runs on its own
    threads = [
        threading.Thread(target=checkpoint, args=(connection.cursor(), name)) for (name,) in files
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _accept_own_user(listener: socket.socket) -> socket.socket:
    """The first connection from a process of this user. An abstract socket has no file
    permissions and its name is listed in /proc/net/unix: anyone could connect, and whoever
    hands over an invocation runs dbt (and Python models) as this user."""
    while True:
        connection, _ = listener.accept()
        credentials = connection.getsockopt(
            socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
        )
        _pid, uid, _gid = struct.unpack("3i", credentials)
        if uid == os.getuid():
            return connection
        connection.close()


def _die_with(parent_pid: int) -> None:
    """A refresh killed mid-way must not leave a dbt behind that holds its warehouse."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before the line above
        os._exit(1)


def _receive(connection: socket.socket, size: int) -> bytes:
    chunks = []
    while size > 0:
        chunk = connection.recv(size)
        if not chunk:
            raise ConnectionError("crm-dbt hung up mid-request")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"] and len(sys.argv) == 4:
        # dbt closed DuckDB (its checkpoint) in _run_dbt; its objects need not be freed
        batch_process.exit_now(serve(int(sys.argv[2]), int(sys.argv[3])))
    sys.exit(main())
