"""Measure how long the board takes to refresh 1, 5, 10 and 20 teams, at once and paced.

Run as root on a machine that can run the practice lab:

    .venv/bin/python bench/board_refresh.py

It creates its own lab with a fresh name and removes it at the end, also after
Ctrl-C. One poller per team connects, and the benchmark times refreshes of all teams
at once, one thread per team as the board runs them. Each team count is measured
with two kinds of refresh, set by the progress file that the benchmark writes on
every host (see ``KINDS``). Besides the wall time, each round records the CPU time of
this process, of the lab hosts' cgroups and of the whole machine. The table thus shows
how much of the growth comes from the board and how much from the lab hosts sharing
this machine's CPUs.

After the burst rounds of the ``checks`` kind, the pollers also run paced, each team
in its own slot of the board's interval as ``bench/paced_refresh.py`` describes, for
about a minute. That run gets a table of its own. All numbers come from this one run on
this machine; they are not targets.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import FrameType

from lab_bench import (
    Kind,
    cell,
    check_kind,
    difference,
    hosts_cpu_seconds,
    inotify_limits,
    machine_cpu_seconds,
    plant_progress,
    ratio,
    team_for,
)
from paced_refresh import PacedMeasurement, measure_paced, print_paced_table

from workshop_tui.core.board.poll import TeamPoller
from workshop_tui.core.errors import LabError
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import Lesson, load_catalog
from workshop_tui.lab import Lab
from workshop_tui.lab.requirements import inotify_in_use

REPOSITORY = Path(__file__).resolve().parents[1]
TEAM_COUNTS = (1, 5, 10, 20)
ROUNDS = 10
PAUSE_SECONDS = 1.0
"""Pause between two rounds, so one round's stragglers do not slow the next. The lab
hosts' CPU time during the pause is recorded as their idle load."""

CHECKS = Kind(
    "checks",
    2,
    "every team at the Postfix lesson's 'Install Postfix' step. Postfix is not "
    "installed, so a refresh runs the failing checks of the first three steps (two "
    "debconf-show checks as the login user, the package and unit checks, and the SMTP "
    "check through a tunnel) and reads the progress file in the same exec, without sudo",
)
PROGRESS = Kind(
    "progress",
    0,
    "every team at the lesson's first step, which has no checks, so a refresh is "
    "the same poller code sending one exec without sudo that only reads the "
    "progress file",
)
KINDS = (CHECKS, PROGRESS)


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


# Running -------------------------------------------------------------------------------


def run(workdir: Path) -> tuple[list[Measurement], list[PacedMeasurement]]:
    lesson = load_catalog([REPOSITORY / "lessons"]).get("postfix")
    assert lesson is not None
    lab = Lab(f"bench-board-{secrets.token_hex(3)}", progress=lambda line: print(f"  {line}"))
    known_hosts = KnownHosts(workdir / "known_hosts")
    pollers: list[TeamPoller] = []
    results: list[Measurement] = []
    paced: list[PacedMeasurement] = []
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
                    if kind is CHECKS:
                        print(f"  reading {count} teams paced ...", flush=True)
                        paced.append(measure_paced(pool, pollers, lab))
                        check_kind(pollers, lesson, kind)
            print_table(results)
            print_paced_table(paced)
    finally:
        for poller in pollers:
            poller.close()
        print(f"Removing lab {lab.name} ...", flush=True)
        lab.down()
    return results, paced


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
            results, paced = run(Path(workdir))
    except KeyboardInterrupt:
        sys.exit("Stopped before all team counts were measured.")
    print("\nBoard refresh of all teams at once:")
    print_table(results)
    print("\nBoard refresh with each team read in its own slot of the interval:")
    print_paced_table(paced)


if __name__ == "__main__":
    main()
