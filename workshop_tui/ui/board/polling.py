"""The poller interface of the board, and a refresh that turns exceptions into a problem."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from workshop_tui.core.board.model import TeamSnapshot
from workshop_tui.core.roster import Team

logger = logging.getLogger(__name__)

REDACTED = "••••••"


class BoardPoller(Protocol):
    """The part of a team's poller that the board uses; ``TeamPoller`` implements it."""

    @property
    def snapshot(self) -> TeamSnapshot:
        """The latest snapshot, kept when a refresh fails."""
        ...

    def refresh(self) -> TeamSnapshot:
        """Read the team's VPS once and return the new snapshot; blocks."""
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
        message = str(error)
        if team.login.password:
            message = message.replace(team.login.password, REDACTED)
        problem = f"the board failed to read this VPS: {type(error).__name__}: {message}"
        return replace(poller.snapshot, reach="unreachable", problem=problem)
