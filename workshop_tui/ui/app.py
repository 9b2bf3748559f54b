"""The attendee app: connect, pick a lesson, work through its steps."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from textual.app import App, SuspendNotSupported
from textual.notifications import Notification, Notify, SeverityLevel
from textual.reactive import reactive

from workshop_tui.core.errors import HostKeyChanged, WorkshopError
from workshop_tui.core.lessons import Catalog, Lesson
from workshop_tui.core.login import Login, redact
from workshop_tui.core.paths import known_hosts_file
from workshop_tui.core.terminal import open_shell
from workshop_tui.ui.dialogs.confirm import ConfirmDialog
from workshop_tui.ui.dialogs.host_key_changed import HostKeyChangedDialog
from workshop_tui.ui.dialogs.unexpected_error import UnexpectedErrorDialog
from workshop_tui.ui.login_form import login_complete
from workshop_tui.ui.progress_view import resume_index
from workshop_tui.ui.screens.connect import ConnectScreen
from workshop_tui.ui.screens.lessons import LessonListScreen
from workshop_tui.ui.screens.step import StepScreen
from workshop_tui.ui.session_api import AttendeeSession, SessionFactory
from workshop_tui.ui.widgets.output_log import Transcript
from workshop_tui.ui.widgets.reconnector import RECONNECT_DELAYS, Reconnector
from workshop_tui.ui.widgets.step_header import LinkState

logger = logging.getLogger(__name__)

ShellOpener = Callable[[Login, Path], int]
"""Opens an interactive shell on the server and returns its exit status."""


QUIT_QUESTION = (
    "The commands keep running on the server, and the app picks up their output when you come back."
)
"""Body of the "Quit?" dialog, shown when the attendee quits while a step's commands run."""

LINK_CHECK_SECONDS = 2.0
"""Seconds between two checks of whether the SSH connection is still open. A check reads
the state that paramiko keeps and sends nothing (see ``Session.link_open``)."""


class WorkshopApp(App[None]):
    """Connects to the attendee's VPS and walks them through the lessons of ``catalog``."""

    CSS_PATH = "app.tcss"
    TITLE = "workshop-tui"
    # Textual 8.2.8 declares this as "ClassVar[...] | None", which mypy reads as an instance
    # variable, so a ClassVar annotation here would be rejected.
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-narrow"),
        (120, "-wide"),
    ]

    link_state: reactive[LinkState] = reactive("offline")
    """Whether the session's SSH connection is up; the step and lesson list screens show it."""

    def __init__(
        self,
        catalog: Catalog,
        login: Login | None,
        session_factory: SessionFactory,
        *,
        auto_connect: bool = False,
        known_hosts: Path | None = None,
        reconnect_delays: Sequence[float] = RECONNECT_DELAYS,
        link_check_seconds: float = LINK_CHECK_SECONDS,
        shell_opener: ShellOpener = open_shell,
    ) -> None:
        """Create the app.

        Args:
            catalog: The lessons to offer.
            login: The login from the command line, or None for an empty form. Without a
                password or key file the attendee completes it on the connect screen.
            session_factory: Creates the session for a login; tests pass a fake.
            auto_connect: Connect at start even if the login has no password or key file.
            known_hosts: The file of trusted host keys for the terminal's ssh; the
                default is workshop-tui's own file in its data directory.
            reconnect_delays: Seconds to wait between reconnect attempts; the last repeats.
            link_check_seconds: Seconds between two checks of whether the connection
                is still open.
            shell_opener: Opens the terminal; tests pass a fake.
        """
        super().__init__()
        self.catalog = catalog
        self.login = login
        self.session_factory = session_factory
        self.auto_connect = auto_connect
        self.known_hosts = known_hosts
        self.reconnector = Reconnector(self, reconnect_delays)
        self.link_check_seconds = link_check_seconds
        self.shell_opener = shell_opener
        self.session: AttendeeSession | None = None
        self.step_transcripts: dict[tuple[str, str], Transcript] = {}
        """The output of each step that ran since the session connected, by lesson and
        step id. Each transcript keeps at most ``MAX_LINES`` lines."""
        self._lasting_notifications: list[Notification] = []
        self._replaced_notifications: set[str] = set()
        """Identities of lasting notifications that a copy replaced. Their Notify
        messages may still be queued, and ``on_notify`` drops them."""
        self._asking_to_quit = False

    def on_mount(self) -> None:
        self.set_interval(self.link_check_seconds, self.check_link, name="link check")
        connect_now = self.login is not None and (self.auto_connect or login_complete(self.login))
        self.push_screen(ConnectScreen(self.login, self.session_factory, connect_now=connect_now))

    async def on_connect_screen_connected(self, message: ConnectScreen.Connected) -> None:
        session = message.session
        self.session = session
        self.step_transcripts.clear()
        self.link_state = "connected"
        # A new server's key was shown in NewHostKeyDialog before the login, so nothing
        # about it is repeated here.
        if session.progress_warning:
            self.notify_lasting(
                session.progress_warning, title="Saved progress", severity="warning", timeout=30
            )
        await self.switch_screen(LessonListScreen(self.catalog, session))
        current = session.progress.current_lesson
        lesson = self.catalog.get(current) if current else None
        if lesson is not None:
            self.open_lesson(lesson)

    def open_lesson(self, lesson: Lesson) -> None:
        """Show ``lesson`` at its saved step, or at the first step not passed yet."""
        if self.session is None:
            return
        self.push_screen(
            StepScreen(
                lesson,
                resume_index(lesson, self.session.progress),
                self.session,
            )
        )

    # Keeping the connection -------------------------------------------------------------

    def check_link(self) -> None:
        """Start reconnecting when the connection broke while the app showed it connected.

        A run or check in progress is left alone: it fails with ``ConnectionLost`` and
        its screen reconnects to resume it.
        """
        session = self.session
        if session is None or self.link_state != "connected" or session.link_open:
            return
        step = self._step_screen()
        if step is not None and step.phase in ("running", "checking"):
            return
        logger.warning("the connection to %s broke; reconnecting", session.login.target)
        if step is not None:
            step.link_lost()
        else:
            self.reconnect()

    def reconnect(self) -> None:
        """Show the link as reconnecting and log in again until it works or is stopped."""
        if self.session is None:
            return
        self.link_state = "reconnecting"
        self.reconnector.start(self.session)

    def stop_reconnecting(self) -> None:
        """Stop logging in again and show the link as offline."""
        self.reconnector.stop()
        self.link_state = "offline"

    def on_reconnector_attempt_failed(self, message: Reconnector.AttemptFailed) -> None:
        if not self.reconnector.accept(message):
            return
        logger.info("reconnect attempt %d failed: %s", message.attempt, message.error)
        step = self._step_screen()
        if step is not None:
            step.reconnect_attempt_failed(message)

    def on_reconnector_reconnected(self, message: Reconnector.Reconnected) -> None:
        if not self.reconnector.accept(message):
            return
        self.link_state = "connected"
        step = self._step_screen()
        if step is not None:
            step.reconnected()

    def on_reconnector_gave_up(self, message: Reconnector.GaveUp) -> None:
        if not self.reconnector.accept(message):
            return
        self.link_state = "offline"
        error = message.error
        # Only a WorkshopError's message is known to contain no password.
        detail = str(error) if isinstance(error, WorkshopError) else type(error).__name__
        logger.warning("reconnecting stopped: %s", detail)
        step = self._step_screen()
        if step is not None:
            step.reconnect_gave_up(error)
        if not isinstance(error, WorkshopError):
            self.show_unexpected_error(error)
        elif isinstance(error, HostKeyChanged):
            self.push_screen(HostKeyChangedDialog(self.redact(str(error))))
        elif step is None:
            self.notify(self.redact(f"Reconnecting stopped: {error}"), severity="error", timeout=30)

    def on_unmount(self) -> None:
        # A retry loop that waits between attempts would delay the end of the process.
        self.reconnector.stop()

    def _step_screen(self) -> StepScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, StepScreen):
                return screen
        return None

    async def action_quit(self) -> None:
        """Quit at once, or ask first while a step's commands are running."""
        self.request_quit()

    def request_quit(self) -> None:
        """Quit, after asking whether to leave commands that are still running."""
        running = any(
            isinstance(screen, StepScreen) and screen.commands_in_progress
            for screen in self.screen_stack
        )
        if not running:
            self.exit()
            return
        if self._asking_to_quit:
            return
        self._asking_to_quit = True

        def leave(confirmed: bool | None) -> None:
            self._asking_to_quit = False
            if confirmed:
                self.exit()

        self.push_screen(
            ConfirmDialog("Quit?", QUIT_QUESTION, confirm="Quit", cancel="Stay"), leave
        )

    def action_open_terminal(self) -> None:
        """Hand the terminal to an SSH shell on the server until the attendee types exit."""
        if self.session is None:
            self.notify("Connect first; the terminal uses the same login.")
            return
        login = self.session.login
        known_hosts = self.known_hosts or known_hosts_file()
        failure: WorkshopError | None = None
        status: int | None = None
        try:
            with self.suspend():
                # Errors are caught inside the block: an exception leaving it would skip
                # the code in App.suspend that gives the terminal back to the app.
                print(f"Opening a shell on {login.host}. Type exit to come back.", flush=True)
                try:
                    status = self.shell_opener(login, known_hosts)
                except WorkshopError as error:
                    failure = error
        except SuspendNotSupported:
            self.notify(
                "This terminal cannot hand over to a shell. Open one yourself with: "
                f"ssh -p {login.port} {login.user}@{login.host}",
                severity="warning",
                timeout=20,
            )
            return
        if failure is not None:
            self.notify(self.redact(str(failure)), severity="error", timeout=20)
        elif status:
            self.notify(f"Back from the shell (it ended with exit status {status}).")
        else:
            self.notify("Back from the shell.")

    def notify_lasting(
        self,
        message: str,
        *,
        title: str,
        timeout: float,
        severity: SeverityLevel = "information",
    ) -> None:
        """Show a notification that stays for ``timeout`` seconds, even across step changes.

        Other notifications are removed when the step screen moves to another step.
        """
        notification = Notification(message, title, severity, timeout, markup=False)
        self._lasting_notifications.append(notification)
        self.post_message(Notify(notification))

    def clear_step_notifications(self) -> None:
        """Remove the notifications, except lasting ones that have not timed out yet."""
        self.clear_notifications()
        # Textual 8 keeps an empty toast holder under each cleared notification's id,
        # so a lasting notification comes back as a copy that ends at the same time.
        # NOTE: one that the attendee closed by clicking it comes back too, because
        # Textual has no public way to tell that it was closed.
        copies: list[Notification] = []
        for notification in self._lasting_notifications:
            self._replaced_notifications.add(notification.identity)
            time_left = notification.time_left
            if time_left > 0:
                copy = Notification(
                    notification.message,
                    notification.title,
                    notification.severity,
                    time_left,
                    markup=notification.markup,
                )
                copies.append(copy)
                self.post_message(Notify(copy))
        self._lasting_notifications = copies
        if not copies:
            # Every replaced notification has timed out, so none can still be queued.
            self._replaced_notifications.clear()

    def on_notify(self, event: Notify) -> None:
        # Runs before App._on_notify, which shows the notification unless prevented.
        if event.notification.identity in self._replaced_notifications:
            event.prevent_default()

    def redact(self, text: str) -> str:
        """Return ``text`` with every known password replaced by dots."""
        for login in (self.login, self.session.login if self.session else None):
            if login is not None:
                text = redact(text, login.password)
        return text

    def show_unexpected_error(self, error: BaseException) -> None:
        """Show an error that no screen expected in a dialog, and keep the app running."""
        # The stack is logged without the exception's message, which could contain a password.
        stack = "".join(traceback.format_tb(error.__traceback__))
        logger.error("unexpected %s in the UI:\n%s", type(error).__name__, stack)
        self.push_screen(
            UnexpectedErrorDialog(type(error).__name__, self.redact(str(error)) or "(no message)")
        )
