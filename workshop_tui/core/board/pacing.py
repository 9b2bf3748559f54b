"""When the board reads each team's VPS: spread over the interval, not all at once.

Reading every VPS at the same moment makes a burst of SSH requests on the facilitator's
Wi-Fi and, where several practice hosts share one machine, makes their checks compete
for its CPUs. So each team gets a phase: team ``index`` of ``count`` refreshes at
``start + index * interval / count`` plus whole intervals. The first refresh of every
team still happens at once, so the board fills quickly when it opens.
"""

from __future__ import annotations

import math
import time

from workshop_tui.core.checks import Check, CheckResult

MIN_GAP_FRACTION = 0.5
"""The smallest pause between two refreshes of one team, as a fraction of the interval.
When a refresh that the facilitator asked for ends close to the team's next slot, that
slot is skipped, so the VPS is not read twice in a row."""

STALE_ROUNDS = 3
"""Data older than this many intervals is stale, whatever the interval."""

REFRESH_ALLOWANCE = 10.0
"""Seconds that one refresh may take before its team's data counts as stale. Logging in
again waits up to 10 seconds per stage, so a slower refresh is a sign of trouble."""


def team_phase(start: float, index: int, count: int, interval: float) -> float:
    """Return the time of the slot of team ``index`` of ``count``, on the clock of ``start``."""
    return start + interval * index / max(count, 1)


def next_refresh_delay(now: float, phase: float, interval: float) -> float:
    """Return the seconds from ``now`` to the team's next slot ``phase + k * interval``.

    The slot is at least ``MIN_GAP_FRACTION * interval`` after ``now``, so a team is
    never read twice in quick succession. A refresh that took longer than the interval
    waits for the next slot that is still ahead.
    """
    earliest = now + MIN_GAP_FRACTION * interval
    slots = math.ceil((earliest - phase) / interval)
    return phase + slots * interval - now


def stale_after(interval: float) -> float:
    """Return the age in seconds after which a team's data counts as stale.

    A team's next refresh starts less than ``1 + MIN_GAP_FRACTION`` intervals after
    its previous one ended (see :func:`next_refresh_delay`), and its data is new only
    when it ends. So the threshold is that gap plus ``REFRESH_ALLOWANCE``, or
    ``STALE_ROUNDS`` intervals if that is longer: 11.5 s at an interval of 1 s, 17.5 s
    at 5 s and 60 s at 20 s.
    """
    longest_gap = (1 + MIN_GAP_FRACTION) * interval + REFRESH_ALLOWANCE
    return max(STALE_ROUNDS * interval, longest_gap)


PROTOCOL_CHECK_SPACING = 30.0
"""Seconds between two runs of one SMTP or IMAP check from the board. The server writes
each connection, and each IMAP login, into the journal. Attendees read that journal in
the lessons, so a run at every refresh would bury their own lines."""


class ProtocolCheckSpacing:
    """The latest result of each protocol check, reused until it is ``spacing`` s old."""

    def __init__(self, spacing: float = PROTOCOL_CHECK_SPACING) -> None:
        self.spacing = spacing
        self._results: dict[Check, tuple[float, CheckResult]] = {}

    def recent(self, check: Check, now: float | None = None) -> CheckResult | None:
        """Return the check's result if it ran within the spacing, else None."""
        entry = self._results.get(check)
        now = time.monotonic() if now is None else now
        if entry is None or now - entry[0] >= self.spacing:
            return None
        return entry[1]

    def remember(self, result: CheckResult, now: float | None = None) -> None:
        """Store a result of a check that just ran."""
        self._results[result.check] = (time.monotonic() if now is None else now, result)
