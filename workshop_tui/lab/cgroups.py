"""Per-host and per-lab cgroups, and the processes started and stopped in them.

Each lab host gets a fresh cgroup in every hierarchy that systemd uses: the
cgroup2 tree and, on a hybrid or legacy machine, the ``name=systemd`` v1
hierarchy. Without its own cgroup the guest's systemd cannot kill its services'
control groups. The lab's DNS and mirror servers get a cgroup of their own too,
so ``down()`` can find and end every process of a lab by cgroup membership and
never by matching process names across the machine.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from workshop_tui.core.errors import LabError

MOUNTINFO = Path("/proc/self/mountinfo")
SPAWN_WAIT_SECONDS = 5

# Moves the shell into each cgroup directory given before "--", then runs the
# rest of the arguments in place of the shell, so the command starts inside.
_ENTER_SCRIPT = """\
while [ "$1" != "--" ]; do
    echo $$ > "$1/cgroup.procs" || exit 97
    shift
done
shift
exec "$@"
"""


def hierarchies(mountinfo: str | None = None) -> list[Path]:
    """Return the mount points of the cgroup2 tree and the ``name=systemd`` hierarchy."""
    if mountinfo is None:
        mountinfo = MOUNTINFO.read_text()
    found: list[Path] = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        separator = fields.index("-")
        mount_point = Path(fields[4].replace("\\040", " "))
        fstype = fields[separator + 1]
        super_options = fields[separator + 3].split(",") if len(fields) > separator + 3 else []
        if fstype == "cgroup2" or (fstype == "cgroup" and "name=systemd" in super_options):
            found.append(mount_point)
    return found


def require_hierarchies() -> list[Path]:
    found = hierarchies()
    if not found:
        raise LabError(
            "no cgroup2 or name=systemd cgroup hierarchy is mounted under /sys/fs/cgroup;"
            " systemd-nspawn needs one to boot the lab hosts"
        )
    return found


def create(relative: str) -> list[Path]:
    """Create the cgroup ``relative`` in every hierarchy and return its directories."""
    # NOTE: the cgroups sit directly below each hierarchy's root. That was run on
    # machines whose PID 1 is not systemd; where systemd manages the tree, this
    # bypasses its delegation rules and is untested.
    directories = []
    for hierarchy in require_hierarchies():
        directory = hierarchy / relative
        directory.mkdir(parents=True, exist_ok=True)
        directories.append(directory)
    return directories


def existing(relative: str) -> list[Path]:
    return [h / relative for h in hierarchies() if (h / relative).is_dir()]


def processes(relative: str) -> set[int]:
    """Return the PIDs in the cgroup ``relative`` and its descendants, in all hierarchies."""
    pids: set[int] = set()
    for directory in existing(relative):
        for procs in directory.rglob("cgroup.procs"):
            with contextlib.suppress(OSError):
                pids.update(int(word) for word in procs.read_text().split())
    return pids


def is_alive(pid: int) -> bool:
    """Return whether ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def reap(pid: int) -> None:
    """Collect the exit status of ``pid`` when it is a child of this process."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def spawn(
    argv: Sequence[str],
    cgroup: str,
    log_path: Path,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start ``argv`` detached inside the cgroup ``cgroup`` and return its PID.

    The process gets its own session, /dev/null as stdin and ``log_path`` as
    stdout and stderr, so it keeps running after this program exits.
    """
    directories = create(cgroup)
    with log_path.open("ab") as log:
        try:
            process = subprocess.Popen(
                ["sh", "-c", _ENTER_SCRIPT, "sh", *map(str, directories), "--", *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=dict(env) if env is not None else None,
            )
        except OSError as error:
            raise LabError(f"failed to start {argv[0]}: {error}") from error

    # Return only once the process is inside its cgroups, so a caller that
    # stops it right away finds it there.
    deadline = time.monotonic() + SPAWN_WAIT_SECONDS
    while process.pid not in processes(cgroup):
        status = process.poll()
        if status is not None:
            raise LabError(f"{argv[0]} exited at start with status {status}; see {log_path}")
        if time.monotonic() >= deadline:
            raise LabError(f"{argv[0]} did not enter cgroup {cgroup} within {SPAWN_WAIT_SECONDS} s")
        time.sleep(0.01)
    return process.pid


def signal_pid(pid: int, signum: int, cgroup: str) -> None:
    """Send ``signum`` to ``pid`` only if it still belongs to the cgroup ``cgroup``.

    The check guards against a recorded PID that has since been reused by an
    unrelated process.
    """
    if pid in processes(cgroup):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def wait_until_gone(pids: set[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        for pid in pids:
            reap(pid)
        if not any(is_alive(pid) for pid in pids):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def kill_all(relative: str, timeout: float = 10) -> None:
    """SIGKILL every process in the cgroup ``relative`` and wait until it is empty."""
    deadline = time.monotonic() + timeout
    while True:
        pids = {pid for pid in processes(relative) if is_alive(pid)}
        if not pids:
            return
        for directory in existing(relative):
            kill_file = directory / "cgroup.kill"
            if kill_file.exists():
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_until_gone(pids, 1)
        if time.monotonic() >= deadline:
            raise LabError(
                f"processes {sorted(pids)} in cgroup {relative} did not exit after SIGKILL"
            )


def remove(relative: str, timeout: float = 10) -> None:
    """Kill what is left in the cgroup ``relative``, then delete it in every hierarchy.

    Child cgroups are deleted before their parents. A process that was still
    starting can create child cgroups, and the kernel may report a cgroup busy
    for a moment after its last process exits, so both steps are retried.
    """
    deadline = time.monotonic() + timeout
    while True:
        kill_all(relative, timeout)
        error: OSError | None = None
        for directory in existing(relative):
            tree = [path for path in directory.rglob("*") if path.is_dir()]
            tree.sort(key=lambda path: len(path.parts), reverse=True)
            for path in [*tree, directory]:
                try:
                    path.rmdir()
                except FileNotFoundError:
                    pass
                except OSError as failure:
                    if failure.errno != errno.EBUSY:
                        raise LabError(
                            f"cannot remove cgroup {path}: {failure.strerror}"
                        ) from failure
                    error = failure
        if not existing(relative):
            return
        if time.monotonic() >= deadline:
            detail = error.strerror if error is not None else "it still exists"
            raise LabError(f"cannot remove cgroup {relative}: {detail}")
        time.sleep(0.1)


def remove_if_empty(relative: str) -> None:
    """Delete the cgroup ``relative`` in the hierarchies where it has no children left."""
    for directory in existing(relative):
        with contextlib.suppress(OSError):
            directory.rmdir()
