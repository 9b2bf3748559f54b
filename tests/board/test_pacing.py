"""Board pacing: each team's refreshes fall into its own slot of the interval."""

from __future__ import annotations

import pytest

from workshop_tui.core.board.pacing import next_refresh_delay, stale_after, team_phase


def test_phases_spread_over_interval() -> None:
    phases = [team_phase(100.0, index, 4, 8.0) for index in range(4)]
    assert phases == [100.0, 102.0, 104.0, 106.0]


def test_phase_of_single_team_is_start() -> None:
    assert team_phase(100.0, 0, 1, 5.0) == 100.0


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (100.3, 4.7),  # a refresh in the slot at 100 took 0.3 s
        (102.0, 3.0),  # woken between slots: the slot at 105 is far enough ahead
        (103.0, 7.0),  # the slot at 105 is too close after a woken refresh
        (111.2, 3.8),  # a refresh that took 6.2 s waits for the slot at 115
    ],
)
def test_delay_to_next_slot(now: float, expected: float) -> None:
    assert next_refresh_delay(now, 100.0, 5.0) == pytest.approx(expected)


def test_delay_before_phase() -> None:
    # After the first refresh, which every team does at once, a team waits for its phase.
    assert next_refresh_delay(100.4, 103.75, 5.0) == pytest.approx(3.35)


def test_delay_never_below_min_gap() -> None:
    delays = [next_refresh_delay(100.0 + tenth / 10, 100.0, 5.0) for tenth in range(100)]
    assert min(delays) >= 2.5


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (1.0, 11.5),  # 1.5 intervals plus 10 s for the refresh
        (5.0, 17.5),
        (20.0, 60.0),  # three intervals are longer
    ],
)
def test_stale_threshold(interval: float, expected: float) -> None:
    assert stale_after(interval) == pytest.approx(expected)


@pytest.mark.parametrize("interval", [1.0, 5.0, 20.0])
def test_longest_paced_gap_is_not_stale(interval: float) -> None:
    # A refresh ends at 100 s, just too close to its team's slot, so the next refresh
    # starts almost 1.5 intervals later and then takes 9 s.
    phase = 100.0 + 0.5 * interval - 0.01
    delay = next_refresh_delay(100.0, phase, interval)
    assert delay == pytest.approx(1.5 * interval - 0.01)
    assert delay + 9.0 < stale_after(interval)
