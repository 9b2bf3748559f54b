"""The base of both board screens: typed access to the app and a redraw from its state."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from workshop_tui.ui.board.app import BoardApp


class BoardView(Screen[None]):
    """A screen of :class:`BoardApp` that redraws itself from the app's snapshots."""

    @property
    def board(self) -> BoardApp:
        """The running board app, typed."""
        return cast("BoardApp", self.app)

    def update_view(self) -> None:
        """Redraw everything from the app's latest snapshots and the current time."""
