"""The attendee's terminal UI, built with Textual on top of :mod:`workshop_tui.core`."""

from workshop_tui.ui.app import WorkshopApp

__all__ = ["WorkshopApp"]
