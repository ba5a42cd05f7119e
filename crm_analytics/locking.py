"""One writer per pipeline instance: an exclusive lock on `<state>/refresh.lock` for the whole
of a refresh. The kernel drops the lock when its holder dies (even by SIGKILL), so a crashed
refresh never blocks the next one; the next holder also stops a dbt process the dead refresh
left running (it would hold the working warehouse open)."""

from __future__ import annotations

import fcntl
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class RefreshBusy(RuntimeError):
    pass


# Locks this process holds: taking one again (the CLI holds it around a run whose resource
# asks for it too) is a no-op, not a self-deadlock (flock locks per open file).
_held: set[Path] = set()


@contextmanager
def refresh_lock(
    state_dir: Path,
    *,
    wait_seconds: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the instance's refresh lock; wait up to `wait_seconds` for another holder."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = (state_dir / "refresh.lock").resolve()
    if path in _held:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                message = f"another refresh of this warehouse is running (pid {holder})"
                if time.monotonic() >= deadline:
                    raise RefreshBusy(
                        f"{message}; try again when it has finished (lock: {path})"
                    ) from None
                if on_wait and not announced:
                    on_wait(f"{message}; waiting up to {wait_seconds:g} s for it to finish")
                    announced = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        stop_orphaned_dbt(state_dir)
        _held.add(path)
        try:
            yield
        finally:
            _held.discard(path)
    finally:
        os.close(fd)


def dbt_pid_file(state_dir: Path) -> Path:
    return state_dir / "dbt.pid"


def stop_orphaned_dbt(state_dir: Path) -> int | None:
    """Kill the dbt process a killed refresh of this instance left behind, if any.

    Only called while holding the refresh lock, so a live process recorded in dbt.pid whose
    environment points at this instance's dbt target cannot belong to a running refresh."""
    pid_file = dbt_pid_file(state_dir)
    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
    except (FileNotFoundError, ValueError):
        return None
    marker = f"DBT_TARGET_PATH={state_dir / 'dbt' / 'target'}".encode()
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        environ = b""
    stopped = None
    if marker in environ.split(b"\0"):
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        stopped = pid
    pid_file.unlink(missing_ok=True)
    return stopped


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = stat.read_text(errors="replace").rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return  # gone
        if state == "Z":  # a zombie holds no files any more
            return
        time.sleep(0.05)
