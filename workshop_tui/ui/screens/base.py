"""What every screen of the app shares: typed access to the app and worker failure handling."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from workshop_tui.ui.app import WorkshopApp


class WorkshopScreen(Screen[None]):
    """A screen of :class:`WorkshopApp` whose failed workers show a dialog, not a crash."""

    @property
    def workshop(self) -> WorkshopApp:
        """The running app, typed."""
        return cast("WorkshopApp", self.app)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Workers catch the errors they expect (WorkshopError) and post messages, so an
        # error here is a bug or an unforeseen failure: report it and keep running.
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.worker_failed(event.worker)
            self.workshop.show_unexpected_error(event.worker.error)

    def worker_failed(self, worker: Worker[object]) -> None:
        """Return the screen to a usable state after ``worker`` raised; override as needed."""
