"""Measure how long the board takes to refresh 1, 5, 10 and 20 teams at once.

Run as root on a machine that can run the practice lab:

    .venv/bin/python bench/board_refresh.py

It creates its own lab with a fresh name and removes it at the end, also after
Ctrl-C. One poller per team connects, and the benchmark times refreshes of all teams
at once, one thread per team as the board runs them. Each team count is measured
with two kinds of refresh, set by the progress file that the benchmark writes on
every host (see ``KINDS``). Besides the wall time, each round records the CPU time of
this process, of the lab hosts' cgroups and of the whole machine. The table thus shows
how much of the growth comes from the board and how much from the lab hosts sharing
this machine's CPUs. All numbers come from this one run on this machine; they are not targets.

Every lab host's systemd takes inotify instances, and all hosts count against root's
``fs.inotify.max_user_instances``. When that limit (or ``max_user_watches``) is too
low for the largest lab, the benchmark raises it for its run and restores the old
value at the end, also after a failure or Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import FrameType

from workshop_tui.core.board.poll import TeamPoller
from workshop_tui.core.errors import LabError
from workshop_tui.core.hostkeys import KnownHosts, fingerprint_from_base64
from workshop_tui.core.lessons import Lesson, load_catalog
from workshop_tui.core.login import Login
from workshop_tui.core.progress import LessonProgress, ServerProgress
from workshop_tui.core.remote import Connection
from workshop_tui.core.roster import Team
from workshop_tui.core.shared_progress import encode_shared_progress, write_shared_progress
from workshop_tui.lab import Lab, LabHost, cgroups, naming

REPOSITORY = Path(__file__).resolve().parents[1]
TEAM_COUNTS = (1, 5, 10, 20)
ROUNDS = 10
PAUSE_SECONDS = 1.0
"""Pause between two rounds, so one round's stragglers do not slow the next. The lab
hosts' CPU time during the pause is recorded as their idle load."""

INOTIFY = Path("/proc/sys/fs/inotify")
INSTANCES_PER_HOST = 10
WATCHES_PER_HOST = 1000
# NOTE: estimates with a margin. In one run each Debian 12 lab host held about 7
# instances and 25 watches, and the run prints what is in use after each start.


@dataclass(frozen=True)
class Kind:
    """A kind of refresh, set by the step at which the progress file puts every team."""

    name: str
    step: int
    """Index of the current step in the Postfix lesson. The steps before it are done."""

    description: str


KINDS = (
    Kind(
        "checks",
        2,
        "every team at the Postfix lesson's 'Install Postfix' step. Postfix is not "
        "installed, so a refresh runs the failing checks of the first three steps (two "
        "debconf checks through sudo, the package and unit checks, and the SMTP check "
        "through a tunnel) and reads the progress file in the same exec",
    ),
    Kind(
        "progress",
        0,
        "every team at the lesson's first step, which has no checks, so a refresh is "
        "the same poller code sending one exec without sudo that only reads the "
        "progress file",
    ),
)


@dataclass(frozen=True)
class Round:
    wall: float
    board_cpu: float
    """CPU seconds that this process (all pollers) used during the round."""

    hosts_cpu: float | None
    """CPU seconds of all lab hosts' cgroups during the round, or None if unreadable."""

    machine_cpu: float
    """CPU seconds that the whole machine was busy during the round, from /proc/stat."""


@dataclass(frozen=True)
class Measurement:
    kind: Kind
    teams: int
    rounds: list[Round]
    round_trips: float
    """Exec requests per host per refresh, averaged over hosts and rounds."""

    tunnels: float
    """Tunnels per host per refresh, averaged over hosts and rounds."""

    idle_hosts_cpu: float | None
    """CPU seconds per second that the lab hosts used during the pauses, median."""


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


# Measuring -----------------------------------------------------------------------------


def refresh_all(pool: ThreadPoolExecutor, pollers: list[TeamPoller], lab: Lab) -> Round:
    """Refresh every poller at once and return what the round cost."""
    hosts_before, machine_before = hosts_cpu_seconds(lab), machine_cpu_seconds()
    started, cpu_started = time.perf_counter(), time.process_time()
    snapshots = list(pool.map(lambda poller: poller.refresh(), pollers))
    wall, board_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    hosts_cpu = difference(hosts_cpu_seconds(lab), hosts_before)
    machine_cpu = machine_cpu_seconds() - machine_before
    offline = [s.team.name for s in snapshots if s.reach != "online"]
    if offline:
        raise RuntimeError(f"teams not online during the benchmark: {', '.join(offline)}")
    return Round(wall, board_cpu, hosts_cpu, machine_cpu)


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


def measure(
    pool: ThreadPoolExecutor, pollers: list[TeamPoller], lesson: Lesson, kind: Kind, lab: Lab
) -> Measurement:
    # The first refresh after a new progress file still runs the checks of the
    # position read before, so two untimed refreshes come first.
    for _ in range(2):
        refresh_all(pool, pollers, lab)
    check_kind(pollers, lesson, kind)
    rounds: list[Round] = []
    idle: list[float] = []
    round_trips: list[int] = []
    tunnels: list[int] = []
    for _ in range(ROUNDS):
        idle_before = hosts_cpu_seconds(lab)
        time.sleep(PAUSE_SECONDS)
        idle_used = difference(hosts_cpu_seconds(lab), idle_before)
        if idle_used is not None:
            idle.append(idle_used / PAUSE_SECONDS)
        rounds.append(refresh_all(pool, pollers, lab))
        round_trips += [poller.snapshot.round_trips for poller in pollers]
        tunnels += [poller.snapshot.tunnels for poller in pollers]
    return Measurement(
        kind,
        len(pollers),
        rounds,
        statistics.mean(round_trips),
        statistics.mean(tunnels),
        statistics.median(idle) if idle else None,
    )


# Output --------------------------------------------------------------------------------


def medians(item: Measurement) -> tuple[float, float, float | None, float | None, float]:
    """Return the medians of wall time, board CPU, hosts' CPU, the rest of the machine's
    CPU and the machine's busy share."""
    cpus = os.cpu_count() or 1
    hosts = [r.hosts_cpu for r in item.rounds if r.hosts_cpu is not None]
    other = [
        r.machine_cpu - r.board_cpu - r.hosts_cpu for r in item.rounds if r.hosts_cpu is not None
    ]
    return (
        statistics.median(r.wall for r in item.rounds),
        statistics.median(r.board_cpu for r in item.rounds),
        statistics.median(hosts) if hosts else None,
        statistics.median(other) if other else None,
        statistics.median(r.machine_cpu / (r.wall * cpus) for r in item.rounds),
    )


def cell(value: float | None, scale: float, width: int, digits: int = 0) -> str:
    return f"{value * scale:{width}.{digits}f}" if value is not None else f"{'n/a':>{width}}"


def ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


def print_table(results: list[Measurement]) -> None:
    print()
    print(
        "refresh   teams  wall ms  ratio  board CPU ms  ratio  hosts CPU ms  ratio  "
        "other CPU ms  CPU busy  execs/host  tunnels/host"
    )
    for kind in KINDS:
        rows = [item for item in results if item.kind == kind]
        if not rows:
            continue
        base = medians(rows[0]) if rows[0].teams == 1 else None
        for item in rows:
            wall, board, hosts, other, busy = medians(item)
            wall_x, board_x, hosts_x = (
                (ratio(wall, base[0]), ratio(board, base[1]), ratio(hosts, base[2]))
                if base
                else (None, None, None)
            )
            print(
                f"{kind.name:8}  {item.teams:5d}  {cell(wall, 1000, 7)}  {cell(wall_x, 1, 5, 2)}  "
                f"{cell(board, 1000, 12)}  {cell(board_x, 1, 5, 2)}  {cell(hosts, 1000, 12)}  "
                f"{cell(hosts_x, 1, 5, 2)}  {cell(other, 1000, 12)}  {cell(busy, 100, 7)}%  "
                f"{item.round_trips:10.2f}  {item.tunnels:12.2f}"
            )
    idle = ", ".join(
        f"{item.teams} {'team' if item.teams == 1 else 'teams'} "
        f"{cell(item.idle_hosts_cpu, 1000, 0)}"
        for item in results
        if item.kind == KINDS[0]
    )
    print(
        f"Median of {ROUNDS} rounds per row; {os.cpu_count()} CPUs shared by the board "
        "and all lab hosts.\nRatios are to the 1-team row of the same refresh. wall: until "
        "the last team's refresh ended.\nboard CPU: this process, all pollers. hosts CPU: "
        "all lab hosts' cgroups during the round.\nother CPU: the rest of the machine's busy "
        "time (kernel threads, interrupts, other programs).\nCPU busy: the machine's busy "
        "time / (wall x CPUs); near 100% a round mostly waits for a CPU.\n"
        f"Lab hosts' CPU between rounds, ms per second: {idle or 'n/a'}."
    )
    for kind in KINDS:
        print(textwrap.fill(f"{kind.name}: {kind.description}.", width=90))


# inotify limits ------------------------------------------------------------------------


def inotify_in_use() -> tuple[int, int]:
    """Return the inotify instances and watches that root's processes hold now.

    Processes owned by another user, or that exit during the scan, are not counted.
    """
    instances = watches = 0
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            if process.stat().st_uid != 0:
                continue
            for fd in (process / "fd").iterdir():
                if os.readlink(fd) == "anon_inode:inotify":
                    instances += 1
                    info = (process / "fdinfo" / fd.name).read_text()
                    watches += info.count("inotify wd:")
        except OSError:
            continue
    return instances, watches


@contextmanager
def inotify_limits(hosts: int) -> Iterator[None]:
    """Raise root's inotify limits for ``hosts`` more lab hosts if they are too low.

    The old values are written back when the block ends, however it ends.
    """
    instances, watches = inotify_in_use()
    needed = {
        "max_user_instances": instances + hosts * INSTANCES_PER_HOST,
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


# Running -------------------------------------------------------------------------------


def run(workdir: Path) -> list[Measurement]:
    lesson = load_catalog([REPOSITORY / "lessons"]).get("postfix")
    assert lesson is not None
    lab = Lab(f"bench-board-{secrets.token_hex(3)}", progress=lambda line: print(f"  {line}"))
    known_hosts = KnownHosts(workdir / "known_hosts")
    pollers: list[TeamPoller] = []
    results: list[Measurement] = []
    try:
        for count in TEAM_COUNTS:
            print(f"Starting {count} lab hosts ...", flush=True)
            try:
                hosts = lab.up(count)
            except LabError as error:
                print(f"Could not create {count} lab hosts on this machine: {error}")
                break
            instances, watches = inotify_in_use()
            print(f"  root holds {instances} inotify instances with {watches} watches")
            teams = [team_for(index, hosts[index]) for index in range(count)]
            pollers += [
                TeamPoller(team, [lesson], known_hosts=known_hosts)
                for team in teams[len(pollers) :]
            ]
            with ThreadPoolExecutor(max_workers=count) as pool:
                for kind in KINDS:
                    plant = partial(
                        plant_progress, lesson=lesson, kind=kind, known_hosts=known_hosts
                    )
                    list(pool.map(plant, teams))
                    results.append(measure(pool, pollers, lesson, kind, lab))
            print_table(results)
    finally:
        for poller in pollers:
            poller.close()
        print(f"Removing lab {lab.name} ...", flush=True)
        lab.down()
    return results


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("The practice lab needs root: run this benchmark with sudo.")
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    # paramiko logs every refused tunnel (the SMTP check while Postfix is missing)
    # at level ERROR; the checks report those failures themselves.
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    try:
        with inotify_limits(max(TEAM_COUNTS)), tempfile.TemporaryDirectory() as workdir:
            results = run(Path(workdir))
    except KeyboardInterrupt:
        sys.exit("Stopped before all team counts were measured.")
    print("\nBoard refresh of all teams at once:")
    print_table(results)


if __name__ == "__main__":
    main()
