"""Durable runs against the test sshd, plus the run scripts run locally with hostile paths."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

from workshop_tui.core.errors import ConnectionLost
from workshop_tui.core.remote import Connection, ExecResult, Login
from workshop_tui.core.runs import (
    RunActive,
    RunHandle,
    RunInterrupted,
    follow_run,
    remove_old_runs,
    run_status,
    start_run,
    stop_run,
)

from .sshd_server import ConnectFactory

COUNTING_SCRIPT = """for i in $(seq 1 25); do echo "line $i"; echo "err $i" >&2; sleep 0.1; done
echo "done as $(id -u)"
exit 5
"""


def expected_output(uid: int) -> tuple[bytes, bytes]:
    out = "".join(f"line {i}\n" for i in range(1, 26)) + f"done as {uid}\n"
    err = "".join(f"err {i}\n" for i in range(1, 26))
    return out.encode(), err.encode()


def follow_all(
    connection: Connection,
    handle: RunHandle,
    out: list[bytes],
    err: list[bytes],
    stdout_offset: int = 0,
    stderr_offset: int = 0,
) -> tuple[int | None, str]:
    outcome = follow_run(
        connection,
        handle,
        on_stdout=out.append,
        on_stderr=err.append,
        stdout_offset=stdout_offset,
        stderr_offset=stderr_offset,
    )
    return outcome.status.exit_status, outcome.status.state


def read_pid(connection: Connection, handle: RunHandle) -> int:
    return int(connection.exec(f"cat {handle.remote_dir}/pid", timeout=10).stdout)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_finished(connection: Connection, handle: RunHandle) -> None:
    deadline = time.monotonic() + 30
    while run_status(connection, handle).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("user", "as_root", "uid"),
    [
        ("wtsudo", True, 0),
        ("wtsudo", False, 61001),
        ("root", True, 0),
        ("wtnocache", True, 0),
    ],
)
def test_run_to_completion(connect: ConnectFactory, user: str, as_root: bool, uid: int) -> None:
    connection = connect(user)
    handle = start_run(connection, COUNTING_SCRIPT, as_root=as_root)
    assert handle.remote_dir == f"{connection.home}/.workshop-tui/runs/{handle.run_id}"
    assert run_status(connection, handle).state == "running"
    out: list[bytes] = []
    err: list[bytes] = []
    assert follow_all(connection, handle, out, err) == (5, "finished")
    assert (b"".join(out), b"".join(err)) == expected_output(uid)
    again: list[bytes] = []
    tail = f"as {uid}\n".encode()
    outcome = follow_run(
        connection,
        handle,
        stdout_offset=len(b"".join(out)) - len(tail),
        stderr_offset=len(b"".join(err)),
        on_stdout=again.append,
        on_stderr=again.append,
    )
    assert b"".join(again) == tail
    assert outcome.stdout_offset == len(b"".join(out))


def test_run_survives_lost_link(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    handle = start_run(connection, COUNTING_SCRIPT, as_root=True)
    out: list[bytes] = []
    err: list[bytes] = []
    transport = connection._transport
    assert transport is not None
    threading.Timer(1.0, lambda: transport.sock.shutdown(socket.SHUT_RDWR)).start()
    with pytest.raises(RunInterrupted) as caught:
        follow_all(connection, handle, out, err)
    assert isinstance(caught.value, ConnectionLost)
    assert caught.value.stdout_offset == len(b"".join(out))
    assert caught.value.stderr_offset == len(b"".join(err))
    assert caught.value.stdout_offset < len(expected_output(0)[0])

    time.sleep(1.0)  # the run goes on while the app is away
    connection.open()
    result = follow_all(
        connection,
        handle,
        out,
        err,
        stdout_offset=caught.value.stdout_offset,
        stderr_offset=caught.value.stderr_offset,
    )
    assert result == (5, "finished")
    assert (b"".join(out), b"".join(err)) == expected_output(0)


def test_run_active_rejected(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    handle = start_run(connection, "sleep 3", as_root=False)
    with pytest.raises(RunActive) as caught:
        start_run(connection, "echo second", as_root=True)
    assert caught.value.handle == handle
    stop_run(connection, handle)


@pytest.mark.parametrize(("user", "as_root"), [("wtsudo", True), ("wtsudo", False), ("root", True)])
def test_stop_run_kills_group(connect: ConnectFactory, user: str, as_root: bool) -> None:
    connection = connect(user)
    handle = start_run(connection, "sleep 100 & sleep 100", as_root=as_root)
    pgid = read_pid(connection, handle)
    assert group_alive(pgid)
    stop_run(connection, handle, grace=2)
    assert not group_alive(pgid)
    status = run_status(connection, handle)
    assert (status.state, status.exit_status) == ("finished", 143)
    stop_run(connection, handle)  # stopping again does nothing


def test_stop_run_kills_after_grace(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    handle = start_run(connection, "trap '' TERM; sleep 100 & sleep 100", as_root=True)
    pgid = read_pid(connection, handle)
    started = time.monotonic()
    stop_run(connection, handle, grace=1)
    assert time.monotonic() - started >= 1
    assert not group_alive(pgid)
    assert run_status(connection, handle).exit_status == 137


def test_follow_cancel_returns_running(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    handle = start_run(connection, COUNTING_SCRIPT, as_root=False)
    cancel = threading.Event()
    threading.Timer(0.6, cancel.set).start()
    out: list[bytes] = []
    outcome = follow_run(
        connection, handle, on_stdout=out.append, on_stderr=lambda _: None, cancel=cancel
    )
    assert outcome.status.state == "running"
    assert outcome.stdout_offset == len(b"".join(out))
    stop_run(connection, handle)


def test_missing_runs(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    gone = RunHandle("nope", f"{connection.home}/.workshop-tui/runs/nope")
    assert run_status(connection, gone).state == "missing"
    handle = start_run(connection, "sleep 100", as_root=False)
    pgid = read_pid(connection, handle)
    os.killpg(pgid, 9)  # as if the server rebooted: no status is recorded
    deadline = time.monotonic() + 10
    while run_status(connection, handle).state != "missing":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    outcome = follow_run(connection, handle, on_stdout=lambda _: None, on_stderr=lambda _: None)
    assert outcome.status.state == "missing"


def test_remove_old_runs_keeps_newest_and_active(connect: ConnectFactory) -> None:
    connection = connect("wtnopass")
    finished = []
    for number in range(3):
        handle = start_run(connection, f"echo {number}", as_root=False)
        wait_finished(connection, handle)
        finished.append(handle)
        time.sleep(1.1)  # run ids sort by their start second
    active = start_run(connection, "sleep 100", as_root=True)
    remove_old_runs(connection, keep=1)
    listing = connection.exec("ls ~/.workshop-tui/runs", timeout=10).stdout.decode().split()
    assert listing == [active.run_id]
    stop_run(connection, active)
    remove_old_runs(connection, keep=0)
    assert connection.exec("ls ~/.workshop-tui/runs", timeout=10).stdout == b""


class LocalShell:
    """Stands in for Connection: runs commands with the local bash as the current user."""

    def __init__(self, home: Path) -> None:
        self.home = str(home)
        self.login = Login("localhost", "tester")
        self.is_root = os.geteuid() == 0

    def exec(
        self,
        command: str,
        *,
        stdin: bytes = b"",
        timeout: float,
        as_root: bool = False,
        on_stdout: Callable[[bytes], None] | None = None,
        on_stderr: Callable[[bytes], None] | None = None,
        **_: object,
    ) -> ExecResult:
        done = subprocess.run(
            ["bash", "-c", command],
            input=stdin,
            capture_output=True,
            timeout=timeout,
            cwd=self.home,
            env={**os.environ, "HOME": self.home},
            check=False,
        )
        if on_stdout is not None and done.stdout:
            on_stdout(done.stdout)
        if on_stderr is not None and done.stderr:
            on_stderr(done.stderr)
        return ExecResult(done.returncode, done.stdout, done.stderr)


def test_run_scripts_treat_hostile_paths_as_data(tmp_path: Path) -> None:
    # `~` in the hostile name would expand to this home if it ever ran as code.
    home = tmp_path / "x'; rm -rf ~ #" / "$(touch pwned)"
    home.mkdir(parents=True)
    canary = home / "canary"
    canary.write_text("still here")
    shell = cast(Connection, LocalShell(home))
    script = "echo \"x'; rm -rf ~ #\"; echo '$(touch pwned2)' >&2"
    handle = start_run(shell, script, as_root=False)
    assert handle.remote_dir.startswith(str(home))
    out: list[bytes] = []
    err: list[bytes] = []
    outcome = follow_run(shell, handle, on_stdout=out.append, on_stderr=err.append)
    assert outcome.status.exit_status == 0
    assert b"".join(out) == b"x'; rm -rf ~ #\n"
    assert b"".join(err) == b"$(touch pwned2)\n"
    stop_run(shell, handle)
    remove_old_runs(shell, keep=0)
    assert canary.read_text() == "still here"
    assert not list(tmp_path.rglob("pwned*"))
    assert not (home / ".workshop-tui" / "runs" / handle.run_id).exists()
