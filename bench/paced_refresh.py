"""Time the board's paced refreshes, where each team is read in its own slot of the interval.

``bench/board_refresh.py`` runs this on its lab after the burst rounds. Each team's
poller refreshes in a thread of its own, at the slots that
``workshop_tui.core.board.pacing`` gives the board after its first read of every team.
The first read is left out here, because it is the same burst that the burst rounds
measure. Every refresh is timed on its own, from its start until the snapshot is back.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import pairwise

from lab_bench import cell, difference, hosts_cpu_seconds, machine_cpu_seconds, ratio

from workshop_tui.core.board.pacing import next_refresh_delay, team_phase
from workshop_tui.core.board.poll import DEFAULT_INTERVAL, TeamPoller
from workshop_tui.lab import Lab

INTERVAL = DEFAULT_INTERVAL
WARM_UP_INTERVALS = 1
"""Intervals before the measured ones. In the first one, only the teams whose slot lies
at least half an interval after the start are read, as on the board."""

MEASURED_INTERVALS = 10


@dataclass(frozen=True)
class Refresh:
    """One timed refresh of one team, on the ``time.monotonic`` clock."""

    team: str
    started: float
    ended: float
    round_trips: int
    tunnels: int


@dataclass(frozen=True)
class PacedMeasurement:
    teams: int
    refreshes: list[Refresh]
    """Every refresh whose slot lies in the measured intervals."""

    seconds: float
    """Length of the measured intervals, over which the CPU times below were taken."""

    board_cpu: float
    hosts_cpu: float | None
    machine_cpu: float


def poll_in_slots(
    poller: TeamPoller, phase: float, window: tuple[float, float], stop: threading.Event
) -> list[Refresh]:
    """Refresh ``poller`` in its slots until ``window`` ends, as the board's poller does.

    Returns the refreshes whose slot lies in ``window``. Raises RuntimeError when the
    team is not online after a refresh, and returns early once ``stop`` is set.
    """
    refreshes: list[Refresh] = []
    while True:
        now = time.monotonic()
        slot = now + next_refresh_delay(now, phase, INTERVAL)
        if slot >= window[1] or stop.wait(max(slot - time.monotonic(), 0.0)):
            return refreshes
        started = time.monotonic()
        snapshot = poller.refresh()
        ended = time.monotonic()
        if snapshot.reach != "online":
            raise RuntimeError(
                f"team {poller.team.name} is {snapshot.reach} after a paced refresh: "
                f"{snapshot.problem}"
            )
        if slot >= window[0]:
            refresh = Refresh(
                poller.team.name, started, ended, snapshot.round_trips, snapshot.tunnels
            )
            refreshes.append(refresh)


def measure_paced(
    pool: ThreadPoolExecutor, pollers: Sequence[TeamPoller], lab: Lab
) -> PacedMeasurement:
    """Refresh every poller in its slot for the warm-up and measured intervals."""
    start = time.monotonic()
    window_start = start + WARM_UP_INTERVALS * INTERVAL
    window = (window_start, window_start + MEASURED_INTERVALS * INTERVAL)
    stop = threading.Event()
    futures = [
        pool.submit(
            poll_in_slots, poller, team_phase(start, index, len(pollers), INTERVAL), window, stop
        )
        for index, poller in enumerate(pollers)
    ]
    try:
        # The slots repeat every interval, so whole intervals contain every team's share
        # of the CPU time, also of a refresh that overlaps the window's start or end.
        wait(futures, timeout=window[0] - time.monotonic(), return_when=FIRST_EXCEPTION)
        board_before, hosts_before = time.process_time(), hosts_cpu_seconds(lab)
        machine_before = machine_cpu_seconds()
        wait(futures, timeout=window[1] - time.monotonic(), return_when=FIRST_EXCEPTION)
        board_cpu = time.process_time() - board_before
        hosts_cpu = difference(hosts_cpu_seconds(lab), hosts_before)
        machine_cpu = machine_cpu_seconds() - machine_before
        refreshes = [refresh for future in futures for refresh in future.result()]
    finally:
        stop.set()
    return PacedMeasurement(
        len(pollers), refreshes, window[1] - window[0], board_cpu, hosts_cpu, machine_cpu
    )


def max_age(item: PacedMeasurement) -> float:
    """Return the max time between two completed refreshes of one team, in seconds.

    Until a refresh completes, the board shows the data of the one before it, so this is
    the oldest data that the board showed during the measured intervals.
    """
    ages: list[float] = []
    for team in {refresh.team for refresh in item.refreshes}:
        ends = sorted(refresh.ended for refresh in item.refreshes if refresh.team == team)
        ages += [later - earlier for earlier, later in pairwise(ends)]
    return max(ages, default=0.0)


def print_paced_table(results: list[PacedMeasurement]) -> None:
    if not results:
        return
    print()
    print(
        "teams  refreshes  median ms  p90 ms  ratio  max age s  board CPU ms/s  "
        "hosts CPU ms/s  CPU busy  execs/host  tunnels/host"
    )
    cpus = os.cpu_count() or 1
    base = statistics.median(r.ended - r.started for r in results[0].refreshes)
    for item in results:
        times = [refresh.ended - refresh.started for refresh in item.refreshes]
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10, method="inclusive")[-1]
        median_x = ratio(median, base) if results[0].teams == 1 else None
        hosts = item.hosts_cpu / item.seconds if item.hosts_cpu is not None else None
        print(
            f"{item.teams:5d}  {len(times):9d}  {median * 1000:9.0f}  {p90 * 1000:6.0f}  "
            f"{cell(median_x, 1, 5, 2)}  {max_age(item):9.2f}  "
            f"{item.board_cpu / item.seconds * 1000:14.1f}  {cell(hosts, 1000, 14)}  "
            f"{item.machine_cpu / (item.seconds * cpus) * 100:7.0f}%  "
            f"{statistics.mean(r.round_trips for r in item.refreshes):10.2f}  "
            f"{statistics.mean(r.tunnels for r in item.refreshes):12.2f}"
        )
    print(
        f"Each team read in its own slot every {INTERVAL:g} s, as the board does after its "
        f"first read,\nfor {MEASURED_INTERVALS} intervals after {WARM_UP_INTERVALS} "
        "warm-up interval; 'checks' refresh, as in the burst rows.\nmedian, p90: of each "
        "refresh's own time, from its start until the snapshot is back.\nRatio is to the "
        "1-team median. max age s: the longest time between two completed\nrefreshes of "
        "one team, so the oldest data that the board showed. CPU ms/s: CPU time\nper second "
        f"of the measured intervals. CPU busy: the machine's busy time / (time x {cpus} CPUs)."
    )
