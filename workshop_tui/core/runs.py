"""Durable runs: a step's script keeps running on the server when the link drops.

Each run lives in its own directory, ``~/.workshop-tui/runs/<run id>/`` in the login
user's home (created with mode 0700, files 0600)::

    script      the step's script, run by ``bash -e`` with stdin from /dev/null
    stdout      everything the script wrote to stdout, appended as it runs
    stderr      everything the script wrote to stderr
    pid         pid of the wrapper, which is also the run's session and process group id
    status      the exit status, written to status.tmp and then renamed into place

The wrapper is started with ``setsid -f`` (under sudo for ``as_root`` when the login user
is not root), so it has no controlling terminal and is not part of the SSH session.
``follow_run`` tails both files from byte offsets, so a caller that counts the bytes it
received can resume after a reconnect without losing or repeating output.

Only one run per login user may be active: ``start_run`` raises ``RunActive`` while an
earlier run is still running. NOTE: two ``start_run`` calls racing from two app instances
can both pass that check, because it and the launch are separate commands.

Only bash, coreutils, util-linux and sudo are needed on the server, all part of a minimal
Debian 12.
"""

from __future__ import annotations

import secrets
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from workshop_tui.core.errors import ConnectionLost, RemoteError, WorkshopError
from workshop_tui.core.remote import Cancelled, Connection

RUNS_DIRECTORY = ".workshop-tui/runs"
# Maximum time that one follow_run waits; long installs finish well within it, and a
# session's own per-step timeout is expected to cancel earlier.
FOLLOW_TIMEOUT = 24 * 3600.0
STOP_GRACE_SECONDS = 5.0
_COMMAND_TIMEOUT = 30.0


class RunActive(WorkshopError):
    """Another run of this login user is still running; ``handle`` identifies it."""

    def __init__(self, message: str, handle: RunHandle) -> None:
        super().__init__(message)
        self.handle = handle


class RunInterrupted(ConnectionLost):
    """The link dropped while following a run; the offsets are where to resume."""

    def __init__(self, message: str, stdout_offset: int, stderr_offset: int) -> None:
        super().__init__(message)
        self.stdout_offset = stdout_offset
        self.stderr_offset = stderr_offset


@dataclass(frozen=True)
class RunHandle:
    """A run on the server: its id and the absolute path of its directory."""

    run_id: str
    remote_dir: str


@dataclass(frozen=True)
class RunStatus:
    """State of a run. ``missing`` means the directory is gone, or the run ended without
    recording a status (for example, the server rebooted)."""

    state: Literal["running", "finished", "missing"]
    exit_status: int | None


@dataclass(frozen=True)
class RunOutcome:
    """Result of ``follow_run``: the run's status and the byte offsets reached."""

    status: RunStatus
    stdout_offset: int
    stderr_offset: int


# A run's wrapper counts as alive only if the recorded pid runs a command line that
# names the run directory, because after a reboot the pid may belong to another process.
_ALIVE = r"""alive() {
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' '\n' <"/proc/$1/cmdline" | grep -qxF -- "$2"
}
"""

_PREPARE = (
    _ALIVE
    + r"""r=$1 id=$2
umask 077
mkdir -p -- "$r" || exit 1
for d in "$r"/*/; do
  d=${d%/}
  [ -d "$d" ] && [ ! -f "$d/status" ] || continue
  if alive "$(cat -- "$d/pid" 2>/dev/null)" "$d"; then printf 'active %s\n' "${d##*/}"; exit 0; fi
done
d=$r/$id
mkdir -- "$d" && cat >"$d/script" && : >"$d/stdout" && : >"$d/stderr" && : >"$d/pid" &&
  : >"$d/status.tmp" && printf 'created\n'
"""
)

# The wrapper keeps running when TERM arrives (the handler runs after the script exits),
# so it can record the script's status. Handled signals are reset to the default in the
# script, so `bash -e` still dies on TERM. Files were created by the login user and are
# only rewritten here, so they keep that owner even when the wrapper runs as root.
# DEBIAN_FRONTEND=noninteractive makes debconf use default values instead of prompting,
# because stdin is /dev/null.
_WRAPPER = r"""d=$1
printf '%s\n' "$$" >"$d/pid"
trap 'true' TERM INT HUP
export DEBIAN_FRONTEND=noninteractive
bash -e -- "$d/script" </dev/null >>"$d/stdout" 2>>"$d/stderr"
s=$?
printf '%s\n' "$s" >"$d/status.tmp" && mv -f -- "$d/status.tmp" "$d/status"
"""

_LAUNCH = r"""d=$1 h=$2 w=$3
cd -- "$h" 2>/dev/null || cd /
setsid -f bash -c "$w" workshop-tui-run "$d" </dev/null >/dev/null 2>&1 || exit 1
i=0
until [ -s "$d/pid" ]; do
  i=$((i + 1))
  if [ "$i" -gt 100 ]; then echo "the run did not record its pid within 10 s" >&2; exit 1; fi
  sleep 0.1
done
"""

_STATUS = (
    _ALIVE
    + r"""d=$1
report() {
  if [ -f "$d/status" ]; then printf 'finished %s\n' "$(cat -- "$d/status")"; return 0; fi
  return 1
}
[ -d "$d" ] || { echo missing; exit 0; }
report && exit 0
if alive "$(cat -- "$d/pid" 2>/dev/null)" "$d"; then echo running; exit 0; fi
report || echo missing
"""
)

# The second tail writes its data to the channel's stderr (fd 3) and its own messages to
# /dev/null, so no tail diagnostic can be mistaken for output of the run.
_FOLLOW = (
    _ALIVE
    + r"""d=$1
p=$(cat -- "$d/pid" 2>/dev/null)
if [ ! -f "$d/status" ] && alive "$p" "$d"; then
  tail -c "+$2" -f --pid="$p" -s 0.2 -- "$d/stdout" 2>/dev/null &
  tail -c "+$3" -f --pid="$p" -s 0.2 -- "$d/stderr" 3>&2 2>/dev/null 1>&3 &
  wait
else
  tail -c "+$2" -- "$d/stdout" 2>/dev/null
  tail -c "+$3" -- "$d/stderr" 3>&2 2>/dev/null 1>&3
fi
"""
)

_OWNER = (
    _ALIVE
    + r"""d=$1
p=$(cat -- "$d/pid" 2>/dev/null)
if [ ! -f "$d/status" ] && alive "$p" "$d"; then stat -c %u "/proc/$p"; else echo none; fi
"""
)

# 137 (128 + SIGKILL) is recorded when the wrapper itself had to be killed.
_STOP = (
    _ALIVE
    + r"""d=$1 n=$2
[ -f "$d/status" ] && exit 0
p=$(cat -- "$d/pid" 2>/dev/null)
alive "$p" "$d" || exit 0
kill -s TERM -- "-$p" 2>/dev/null
i=0
while kill -0 -- "-$p" 2>/dev/null && [ "$i" -lt "$n" ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 -- "-$p" 2>/dev/null; then kill -s KILL -- "-$p" 2>/dev/null; sleep 0.2; fi
if [ ! -f "$d/status" ]; then
  printf '137\n' >"$d/status.tmp" && mv -f -- "$d/status.tmp" "$d/status"
fi
"""
)

# Run ids start with a UTC timestamp, so the glob's byte order is the start order.
_CLEAN = (
    _ALIVE
    + r"""r=$1 keep=$2
[ -d "$r" ] || exit 0
total=0
for d in "$r"/*/; do [ -d "$d" ] && total=$((total + 1)); done
extra=$((total - keep))
for d in "$r"/*/; do
  [ "$extra" -gt 0 ] || break
  d=${d%/}
  [ -d "$d" ] || continue
  extra=$((extra - 1))
  if [ ! -f "$d/status" ] && alive "$(cat -- "$d/pid" 2>/dev/null)" "$d"; then continue; fi
  rm -rf -- "$d" || printf 'could not remove %s\n' "$d" >&2
done
"""
)


def bash_command(script: str, *args: str) -> str:
    """Return a command line that runs ``script`` with bash and the given arguments."""
    return " ".join(shlex.quote(part) for part in ("bash", "-c", script, "workshop-tui", *args))


def _runs_directory(conn: Connection) -> str:
    if not conn.home.startswith("/"):
        raise RemoteError(
            f"The home directory of {conn.login.target} is unknown "
            f"({conn.home!r}); reconnect and try again."
        )
    return f"{conn.home.rstrip('/')}/{RUNS_DIRECTORY}"


def _new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(4)


def _failure(conn: Connection, action: str, stderr: bytes) -> RemoteError:
    detail = stderr.decode("utf-8", "replace").strip() or "no error message"
    return RemoteError(f"Could not {action} on {conn.login.target}: {detail}")


def start_run(conn: Connection, script: str, *, as_root: bool, timeout: float = 30.0) -> RunHandle:
    """Start ``script`` detached on the server and return once it is running.

    The script runs with ``bash -e`` in the login user's home directory with stdin from
    /dev/null and ``DEBIAN_FRONTEND=noninteractive``.

    Raises:
        RunActive: an earlier run is still running; follow or stop ``error.handle``.
        SudoFailed: ``as_root`` needs sudo and sudo refused.
        ConnectionLost, RemoteTimeout: the link broke or the server did not respond.
        RemoteError: the run directory could not be created or the run did not start.
    """
    runs = _runs_directory(conn)
    run_id = _new_run_id()
    handle = RunHandle(run_id, f"{runs}/{run_id}")
    prepared = conn.exec(
        bash_command(_PREPARE, runs, run_id), stdin=script.encode("utf-8"), timeout=timeout
    )
    answer = prepared.stdout.decode("utf-8", "replace").split()
    if answer[:1] == ["active"] and len(answer) == 2:
        active = RunHandle(answer[1], f"{runs}/{answer[1]}")
        raise RunActive(
            f"Another step is still running on {conn.login.target} (run "
            f"{answer[1]}). Wait for it to finish or stop it first.",
            active,
        )
    if prepared.exit_status != 0 or answer != ["created"]:
        raise _failure(conn, f"create the run directory {handle.remote_dir}", prepared.stderr)
    launched = conn.exec(
        bash_command(_LAUNCH, handle.remote_dir, conn.home, _WRAPPER),
        as_root=as_root,
        timeout=timeout,
    )
    if launched.exit_status != 0:
        raise _failure(conn, "start the step's commands", launched.stderr)
    return handle


def run_status(conn: Connection, handle: RunHandle) -> RunStatus:
    """Return whether the run is running, finished (with its exit status) or missing."""
    result = conn.exec(bash_command(_STATUS, handle.remote_dir), timeout=_COMMAND_TIMEOUT)
    words = result.stdout.decode("utf-8", "replace").split()
    if words[:1] == ["running"]:
        return RunStatus("running", None)
    if words[:1] == ["finished"] and len(words) == 2 and words[1].isdigit():
        return RunStatus("finished", int(words[1]))
    if words[:1] == ["missing"]:
        return RunStatus("missing", None)
    raise _failure(conn, f"read the status of run {handle.run_id}", result.stderr)


def follow_run(
    conn: Connection,
    handle: RunHandle,
    *,
    stdout_offset: int = 0,
    stderr_offset: int = 0,
    on_stdout: Callable[[bytes], None],
    on_stderr: Callable[[bytes], None],
    cancel: threading.Event | None = None,
) -> RunOutcome:
    """Stream the run's output from the given byte offsets until the run ends.

    When ``cancel`` is set, this stops following and returns an outcome whose state is
    ``running``; the run itself goes on (``stop_run`` ends it).

    Raises:
        RunInterrupted: the link dropped (a ``ConnectionLost``); its offsets count every
            byte passed to the callbacks, so a later call resumes exactly there.
    """
    offsets = [stdout_offset, stderr_offset]

    def receive(index: int, forward: Callable[[bytes], None]) -> Callable[[bytes], None]:
        def callback(chunk: bytes) -> None:
            offsets[index] += len(chunk)
            forward(chunk)

        return callback

    while True:
        # tail numbers bytes from 1, so offset N starts at byte N + 1.
        command = bash_command(_FOLLOW, handle.remote_dir, str(offsets[0] + 1), str(offsets[1] + 1))
        failure: RunInterrupted | None = None
        try:
            conn.exec(
                command,
                timeout=FOLLOW_TIMEOUT,
                on_stdout=receive(0, on_stdout),
                on_stderr=receive(1, on_stderr),
                cancel=cancel,
                collect_limit=0,
            )
            status = run_status(conn, handle)
        except Cancelled:
            return RunOutcome(RunStatus("running", None), offsets[0], offsets[1])
        except ConnectionLost as exc:
            failure = RunInterrupted(str(exc), offsets[0], offsets[1])
        if failure is not None:
            raise failure
        if status.state != "running":
            return RunOutcome(status, offsets[0], offsets[1])
        # The tails ended while the run still counts as running (a race with its exit).
        time.sleep(0.2)


def stop_run(conn: Connection, handle: RunHandle, *, grace: float = STOP_GRACE_SECONDS) -> None:
    """End the run's whole process group: TERM, then KILL after ``grace`` seconds.

    A run started as root is stopped through sudo. Stopping a run that already ended
    does nothing. If the wrapper had to be killed, status 137 is recorded.
    """
    owner = conn.exec(bash_command(_OWNER, handle.remote_dir), timeout=_COMMAND_TIMEOUT)
    owner_uid = owner.stdout.decode("utf-8", "replace").strip()
    if owner_uid == "none":
        return
    as_root = owner_uid == "0" and not conn.is_root
    tenths = str(max(1, round(grace * 10)))
    result = conn.exec(
        bash_command(_STOP, handle.remote_dir, tenths),
        as_root=as_root,
        timeout=grace + _COMMAND_TIMEOUT,
    )
    if result.exit_status != 0:
        raise _failure(conn, f"stop run {handle.run_id}", result.stderr)


def remove_old_runs(conn: Connection, keep: int = 20) -> None:
    """Delete the directories of all but the newest ``keep`` runs; active runs stay."""
    runs = _runs_directory(conn)
    result = conn.exec(bash_command(_CLEAN, runs, str(max(keep, 0))), timeout=_COMMAND_TIMEOUT)
    if result.exit_status != 0 or result.stderr:
        raise _failure(conn, "remove old runs", result.stderr)
