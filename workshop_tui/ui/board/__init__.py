"""The facilitator board: every team's progress in one grid, read live from their VPS."""

from workshop_tui.ui.board.app import BoardApp

__all__ = ["BoardApp"]
