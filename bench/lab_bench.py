"""Helpers for the benchmarks that run the board against practice lab hosts.

The benchmark scripts in this folder import this module by name, which works because
Python puts a script's own folder first on ``sys.path``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workshop_tui.core.board.poll import TeamPoller
from workshop_tui.core.hostkeys import KnownHosts, fingerprint_from_base64
from workshop_tui.core.lessons import Lesson
from workshop_tui.core.login import Login
from workshop_tui.core.progress import LessonProgress, ServerProgress
from workshop_tui.core.remote import Connection
from workshop_tui.core.roster import Team
from workshop_tui.core.shared_progress import encode_shared_progress, write_shared_progress
from workshop_tui.lab import Lab, LabHost, cgroups, naming
from workshop_tui.lab.requirements import INOTIFY, INOTIFY_INSTANCES_PER_HOST, inotify_in_use

WATCHES_PER_HOST = 1000
# NOTE: an estimate with a margin. In one run each Debian 12 lab host held about 25
# watches, and the run prints what is in use after each start.


@dataclass(frozen=True)
class Kind:
    """A kind of refresh, set by the step at which the progress file puts every team."""

    name: str
    step: int
    """Index of the current step in the Postfix lesson. The steps before it are done."""

    description: str


# Teams and their progress files --------------------------------------------------------


def team_for(index: int, host: LabHost) -> Team:
    login = Login(host=host.address, user=host.user, port=host.port, password=host.user_password)
    keys = tuple(fingerprint_from_base64(kind, key) for kind, key in host.host_keys)
    return Team(f"team-{index + 1}", login, None, keys, index + 1)


def plant_progress(team: Team, lesson: Lesson, kind: Kind, known_hosts: KnownHosts) -> None:
    """Write a progress file that puts ``team`` at step ``kind.step``, the steps before done."""
    done = lesson.steps[: kind.step]
    progress = ServerProgress(
        current_lesson=lesson.id,
        lessons={
            lesson.id: LessonProgress(
                current_step=lesson.steps[kind.step].id,
                steps={step.id: "passed" for step in done},
            )
        },
        step_since=time.time(),
    )
    with Connection(team.login, known_hosts) as connection:
        connection.open()
        data = encode_shared_progress(progress, team=team.name, written_at=time.time())
        write_shared_progress(connection, data)


def check_kind(pollers: list[TeamPoller], lesson: Lesson, kind: Kind) -> None:
    """Raise RuntimeError unless every team's latest refresh matches ``kind``."""
    expected = lesson.steps[kind.step].id
    for poller in pollers:
        snapshot = poller.snapshot
        saved = snapshot.progress.lessons.get(lesson.id) if snapshot.progress else None
        step = saved.current_step if saved else None
        checked = sum(len(results) for results in snapshot.results.values())
        if snapshot.problem or step != expected or (checked == 0) != (kind.step == 0):
            raise RuntimeError(
                f"team {poller.team.name} is not set up for the '{kind.name}' refresh: "
                f"step {step}, {checked} check results, problem: {snapshot.problem}"
            )


# Host-side CPU time --------------------------------------------------------------------


def hosts_cpu_seconds(lab: Lab) -> float | None:
    """Return the CPU seconds used so far by all hosts of ``lab``, from cgroup2 cpu.stat.

    The hosts' cgroups sit below one ``hosts`` cgroup, whose ``usage_usec`` includes
    every process of every host. The ``name=systemd`` v1 hierarchy has no cpu.stat.
    """
    for directory in cgroups.existing(naming.cgroup_lab(lab.name) + "/hosts"):
        stat = directory / "cpu.stat"
        if stat.is_file():
            for line in stat.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
    return None


def machine_cpu_seconds() -> float:
    """Return the CPU seconds that all CPUs of this machine have been busy since boot.

    Busy is every column of the ``cpu`` line of /proc/stat except idle and iowait.
    Guest time is left out because user time already contains it. The counters step
    in clock ticks (usually 10 ms), so a single short round is measured coarsely.
    """
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def difference(after: float | None, before: float | None) -> float | None:
    return after - before if after is not None and before is not None else None


# Output --------------------------------------------------------------------------------


def cell(value: float | None, scale: float, width: int, digits: int = 0) -> str:
    return f"{value * scale:{width}.{digits}f}" if value is not None else f"{'n/a':>{width}}"


def ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


# inotify limits ------------------------------------------------------------------------


@contextmanager
def inotify_limits(hosts: int) -> Iterator[None]:
    """Raise root's inotify limits for ``hosts`` more lab hosts if they are too low.

    The old values are written back when the block ends, however it ends.
    """
    instances, watches = inotify_in_use()
    needed = {
        "max_user_instances": instances + hosts * INOTIFY_INSTANCES_PER_HOST,
        "max_user_watches": watches + hosts * WATCHES_PER_HOST,
    }
    old: dict[str, int] = {}
    try:
        for name, value in needed.items():
            path = INOTIFY / name
            current = int(path.read_text())
            if current >= value:
                continue
            try:
                path.write_text(f"{value}\n")
            except OSError as error:
                print(
                    f"Failed to raise fs.inotify.{name} from {current} to {value}: {error}. "
                    "The largest lab may fail to start.",
                    flush=True,
                )
            else:
                old[name] = current
                print(
                    f"Raised fs.inotify.{name} from {current} to {value} for this run "
                    f"({hosts} lab hosts).",
                    flush=True,
                )
        yield
    finally:
        for name, value in old.items():
            (INOTIFY / name).write_text(f"{value}\n")
            print(f"Restored fs.inotify.{name} to {value}.", flush=True)
