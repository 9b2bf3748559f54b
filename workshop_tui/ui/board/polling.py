"""The poller interface of the board, and a refresh and a diagnosis that turn exceptions
into a problem."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from workshop_tui.core.board.diagnosis import TeamDiagnosis
from workshop_tui.core.board.model import TeamSnapshot
from workshop_tui.core.login import redact
from workshop_tui.core.roster import Team

logger = logging.getLogger(__name__)


class BoardPoller(Protocol):
    """The part of a team's poller that the board uses; ``TeamPoller`` implements it."""

    @property
    def snapshot(self) -> TeamSnapshot:
        """The latest snapshot, kept when a refresh fails."""
        ...

    def refresh(self) -> TeamSnapshot:
        """Read the team's VPS once and return the new snapshot; blocks."""
        ...

    def diagnose(self) -> TeamDiagnosis | None:
        """Look for known faults behind the failing checks of the latest snapshot; blocks.

        Returns None when no check fails or the VPS cannot be read now.
        """
        ...

    def close(self) -> None:
        """Close the SSH connection; a refresh in another thread then ends soon."""
        ...


PollerFactory = Callable[[Team], BoardPoller]
"""Creates the poller of one team; tests pass one that returns fakes."""


def refresh_safely(poller: BoardPoller, team: Team) -> TeamSnapshot:
    """Refresh ``poller`` and return its snapshot, also when the poller raises.

    The poller reports network and login problems in the snapshot, so an exception here
    is a bug. The board then keeps the team's last data, shows the error as the team's
    problem and tries again on the next round.
    """
    try:
        return poller.refresh()
    except Exception as error:
        # The stack is logged without the message, which could contain a password.
        stack = "".join(traceback.format_tb(error.__traceback__))
        logger.error("reading team %s failed with %s:\n%s", team.name, type(error).__name__, stack)
        message = redact(str(error), team.login.password or "")
        problem = f"the board failed to read this VPS: {type(error).__name__}: {message}"
        return replace(poller.snapshot, reach="unreachable", problem=problem)


def diagnose_safely(poller: BoardPoller, team: Team) -> TeamDiagnosis | None:
    """Diagnose ``team`` with ``poller``, also when the poller raises.

    The poller reports network and sudo problems in the result, so an exception here is
    a bug. The exception then becomes the result's problem, without the password.
    """
    try:
        return poller.diagnose()
    except Exception as error:
        stack = "".join(traceback.format_tb(error.__traceback__))
        logger.error(
            "diagnosing team %s failed with %s:\n%s", team.name, type(error).__name__, stack
        )
        message = redact(f"{type(error).__name__}: {error}", team.login.password or "")
        return TeamDiagnosis(problem=f"no diagnosis: the board failed: {message}", at=time.time())
