"""Measure how long the board takes to refresh 1, 5, 10 and 20 teams at once.

Run as root on a machine that can run the practice lab:

    .venv/bin/python bench/board_refresh.py

It creates its own lab with a fresh name and removes it at the end, also after
Ctrl-C. Every team is put at the Postfix lesson's "Install Postfix" step with a
progress file, and one poller per team connects. Then it times refreshes of all teams
at once, one thread per team as the board runs them. Postfix is not installed, so the install
step's checks fail as they do for a team that has just opened the step. All numbers
come from this one run on this machine; they are not targets.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
from workshop_tui.lab import Lab, LabHost

REPOSITORY = Path(__file__).resolve().parents[1]
TEAM_COUNTS = (1, 5, 10, 20)
ROUNDS = 10
PAUSE_SECONDS = 1.0
"""Pause between two rounds, so one round's stragglers do not slow the next."""


@dataclass(frozen=True)
class Measurement:
    teams: int
    durations: list[float]
    cpu: list[float]
    """CPU seconds that this process (all pollers) used per round."""

    round_trips: float
    """Exec requests per host per refresh, averaged over hosts and rounds."""

    tunnels: float
    """Tunnels per host per refresh, averaged over hosts and rounds."""


def team_for(index: int, host: LabHost) -> Team:
    login = Login(host=host.address, user=host.user, port=host.port, password=host.user_password)
    keys = tuple(fingerprint_from_base64(kind, key) for kind, key in host.host_keys)
    return Team(f"team-{index + 1}", login, None, keys, index + 1)


def plant_progress(team: Team, lesson: Lesson, known_hosts: KnownHosts) -> None:
    """Write a progress file that puts ``team`` at the install step, after two done steps."""
    about, preseed, install = lesson.steps[0], lesson.steps[1], lesson.steps[2]
    progress = ServerProgress(
        current_lesson=lesson.id,
        lessons={
            lesson.id: LessonProgress(
                current_step=install.id, steps={about.id: "passed", preseed.id: "ran"}
            )
        },
        step_since=time.time(),
    )
    with Connection(team.login, known_hosts) as connection:
        connection.open()
        data = encode_shared_progress(progress, team=team.name, written_at=time.time())
        write_shared_progress(connection, data)


def refresh_all(pool: ThreadPoolExecutor, pollers: list[TeamPoller]) -> tuple[float, float]:
    """Refresh every poller at once; return the wall time until the last one ended and
    the CPU time this process used meanwhile."""
    started, cpu_started = time.perf_counter(), time.process_time()
    snapshots = list(pool.map(lambda poller: poller.refresh(), pollers))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    offline = [s.team.name for s in snapshots if s.reach != "online"]
    if offline:
        raise RuntimeError(f"teams not online during the benchmark: {', '.join(offline)}")
    return elapsed, cpu


def measure(pollers: list[TeamPoller]) -> Measurement:
    with ThreadPoolExecutor(max_workers=len(pollers)) as pool:
        refresh_all(pool, pollers)  # connects the new pollers; not timed
        durations: list[float] = []
        cpu: list[float] = []
        round_trips: list[int] = []
        tunnels: list[int] = []
        for _ in range(ROUNDS):
            time.sleep(PAUSE_SECONDS)
            elapsed, used = refresh_all(pool, pollers)
            durations.append(elapsed)
            cpu.append(used)
            round_trips += [poller.snapshot.round_trips for poller in pollers]
            tunnels += [poller.snapshot.tunnels for poller in pollers]
    return Measurement(
        len(pollers), durations, cpu, statistics.mean(round_trips), statistics.mean(tunnels)
    )


def print_table(results: list[Measurement]) -> None:
    base = statistics.median(results[0].durations) if results else 0.0
    print()
    print("teams  median ms  min ms  max ms  ratio to 1  board CPU ms  execs/host  tunnels/host")
    for item in results:
        median = statistics.median(item.durations)
        ratio = median / base if base and results[0].teams == 1 else float("nan")
        print(
            f"{item.teams:5d}  {median * 1000:9.0f}  {min(item.durations) * 1000:6.0f}  "
            f"{max(item.durations) * 1000:6.0f}  {ratio:10.2f}  "
            f"{statistics.median(item.cpu) * 1000:12.0f}  {item.round_trips:10.2f}  "
            f"{item.tunnels:12.2f}"
        )
    print(
        f"({ROUNDS} rounds per row, {os.cpu_count()} CPUs shared by the board and the lab "
        "hosts; board CPU is the median CPU time of this process per round)"
    )


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
                if "Too many open files" in str(error):
                    print(
                        "Each lab host's systemd uses inotify instances, and all hosts count "
                        "against root's fs.inotify.max_user_instances (128 by default). "
                        "Raising it, e.g. with `sysctl fs.inotify.max_user_instances=512`, "
                        "allows more hosts."
                    )
                break
            for index in range(len(pollers), count):
                team = team_for(index, hosts[index])
                plant_progress(team, lesson, known_hosts)
                pollers.append(TeamPoller(team, [lesson], known_hosts=known_hosts))
            results.append(measure(pollers))
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
    # paramiko logs every refused tunnel (the SMTP check while Postfix is missing).
    logging.getLogger("paramiko").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as workdir:
        results = run(Path(workdir))
    print("\nBoard refresh of all teams at once, Postfix install step:")
    print_table(results)


if __name__ == "__main__":
    main()
