"""The first screen: the attendee types the login from their slip and connects."""

from __future__ import annotations

import threading
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Footer, Input, Label, Static
from textual.worker import Worker, get_current_worker

from workshop_tui.core.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HostKeyChanged,
    HostKeyNotTrusted,
    HostUnreachable,
    WorkshopError,
)
from workshop_tui.core.login import HostKeyInfo, Login
from workshop_tui.core.session import ConnectReport
from workshop_tui.ui.dialogs.host_key_changed import HostKeyChangedDialog
from workshop_tui.ui.dialogs.new_host_key import NewHostKeyDialog
from workshop_tui.ui.login_form import LoginForm, read_form
from workshop_tui.ui.screens.base import WorkshopScreen
from workshop_tui.ui.session_api import AttendeeSession, SessionFactory
from workshop_tui.ui.widgets.spinner import Spinner

FIELDS: tuple[tuple[str, str, str], ...] = (
    ("host", "Host", "address from your slip, e.g. 203.0.113.10"),
    ("port", "Port", "22"),
    ("user", "User", "user name from your slip"),
    ("password", "Password", "password from your slip"),
    ("key_file", "Key file", "optional: path to a private key"),
)
"""Field name, label and placeholder of each input, in form order."""

ANSWER_POLL_SECONDS = 0.1
"""How often the connect worker, while it waits for the attendee to answer the host key
question, checks whether it was cancelled."""


def describe_target(login: Login) -> str:
    """Return ``user@host on port N`` for progress lines; the port is always named."""
    return f"{login.user}@{login.host} on port {login.port}"


class HostKeyQuestion:
    """The connect worker's question to the attendee whether to trust a new server's key.

    The worker waits for ``answered``, which the UI thread sets once through :meth:`answer`.
    """

    def __init__(self, login: Login, key: HostKeyInfo) -> None:
        self.login = login
        self.key = key
        self.answered = threading.Event()
        self.trusted = False

    def answer(self, trusted: bool) -> None:
        """Store the attendee's answer and wake the waiting worker."""
        self.trusted = trusted
        self.answered.set()


class ConnectScreen(WorkshopScreen):
    """The login form, connecting in a thread worker and showing errors in place."""

    CSS_PATH = "connect.tcss"
    AUTO_FOCUS = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel_connect",
            "Cancel",
            tooltip="Stop waiting for the server and edit the login.",
            id="connect.cancel",
        ),
        Binding("ctrl+q", "app.quit", "Quit", priority=True, id="connect.quit"),
    ]

    class Connected(Message):
        """The login succeeded; the app continues with ``session``."""

        def __init__(self, session: AttendeeSession, report: ConnectReport) -> None:
            super().__init__()
            self.session = session
            self.report = report

    class NewHostKey(Message):
        """The server is new: the attendee must answer ``question`` before the login."""

        def __init__(self, question: HostKeyQuestion) -> None:
            super().__init__()
            self.question = question

    class ConnectFailed(Message):
        """The login failed with a message for the attendee."""

        def __init__(self, error: WorkshopError) -> None:
            super().__init__()
            self.error = error

    connecting: reactive[bool] = reactive(False)

    def __init__(
        self, login: Login | None, session_factory: SessionFactory, *, connect_now: bool
    ) -> None:
        super().__init__()
        self.initial_login = login
        self.session_factory = session_factory
        self.connect_now = connect_now
        self._attempt: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="page"):
            yield Static("Connect to your server", id="heading")
            yield Static("Type the login from your slip, then press Enter or Connect.", id="intro")
            with Vertical(id="form"):
                for name, label, placeholder in FIELDS:
                    with Horizontal(classes="row"):
                        yield Label(f"{label}:", classes="label")
                        yield Input(
                            value=self._initial_value(name),
                            placeholder=placeholder,
                            password=name == "password",
                            id=name.replace("_", "-"),
                            compact=True,
                        )
                    yield Static(classes="field-error", id=f"{name.replace('_', '-')}-error")
            yield Button("Connect", id="connect", variant="primary")
            with Horizontal(id="progress"):
                yield Spinner()
                yield Static(id="progress-text")
            yield Static(id="error", markup=False)
        yield Footer(show_command_palette=False)

    def _initial_value(self, name: str) -> str:
        login = self.initial_login
        if login is None:
            return "22" if name == "port" else ""
        values = {
            "host": login.host,
            "port": str(login.port),
            "user": login.user,
            "password": login.password or "",
            "key_file": str(login.key_file) if login.key_file else "",
        }
        return values[name]

    def on_mount(self) -> None:
        if self.connect_now:
            self.submit()
        else:
            self._focus_first_empty()

    def _input(self, name: str) -> Input:
        return self.query_one(f"#{name.replace('_', '-')}", Input)

    def _focus_first_empty(self) -> None:
        for name, _label, _placeholder in FIELDS[:4]:
            if not self._input(name).value:
                self._input(name).focus()
                return
        self.query_one("#connect", Button).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "connect":
            self.submit()

    def submit(self) -> None:
        """Check the form and, if it is complete, connect in a worker."""
        if self.connecting:
            self.notify("Still connecting. Press Escape to stop waiting.")
            return
        use_agent = self.initial_login.use_agent if self.initial_login else False
        result = read_form(
            LoginForm(
                host=self._input("host").value,
                port=self._input("port").value,
                user=self._input("user").value,
                password=self._input("password").value,
                key_file=self._input("key_file").value,
                use_agent=use_agent,
            )
        )
        for name, _label, _placeholder in FIELDS:
            message = result.errors.get(name, "")
            error = self.query_one(f"#{name.replace('_', '-')}-error", Static)
            error.update(message)
            error.display = bool(message)
        if result.login is None:
            first_invalid = next(name for name, _, _ in FIELDS if name in result.errors)
            self._input(first_invalid).focus()
            return
        self._show_error("")
        self.query_one("#progress-text", Static).update(
            f"Connecting to {describe_target(result.login)}…"
        )
        self.connecting = True
        self._attempt = self._connect(result.login)

    def watch_connecting(self, connecting: bool) -> None:
        self.query_one("#progress").display = connecting
        self.query_one("#connect", Button).disabled = connecting
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_connect":
            return self.connecting
        return True

    def action_cancel_connect(self) -> None:
        if self._attempt is not None:
            self._attempt.cancel()
        self.connecting = False
        self._show_error("Connecting was stopped. Check the login and press Enter to try again.")

    @work(thread=True, exclusive=True, group="connect", exit_on_error=False)
    def _connect(self, login: Login) -> None:
        worker = get_current_worker()
        trusted_keys: set[str] = set()

        def confirm_new_key(key: HostKeyInfo) -> bool:
            # Called by the core in this thread before the password is sent. The dialog
            # can only be shown by the UI thread, so this waits for its answer, and gives
            # up (declines) when the worker is cancelled, as on quitting.
            if key.fingerprint in trusted_keys:
                return True
            question = HostKeyQuestion(login, key)
            self.post_message(self.NewHostKey(question))
            while not question.answered.wait(ANSWER_POLL_SECONDS):
                if worker.is_cancelled:
                    return False
            if question.trusted:
                trusted_keys.add(key.fingerprint)
            return question.trusted

        try:
            session = self.session_factory(login)
            try:
                report = session.connect(confirm_new_key)
            except ConnectionLost:
                # OpenSSH closes a connection that has not logged in within LoginGraceTime
                # (120 s by default), which a slow answer to the key question can exceed.
                # The attendee trusted the key, so the second attempt does not ask again.
                if not trusted_keys or worker.is_cancelled:
                    raise
                report = session.connect(confirm_new_key)
        except WorkshopError as error:
            if not worker.is_cancelled:
                self.post_message(self.ConnectFailed(error))
            return
        if worker.is_cancelled:
            session.close()
            return
        self.post_message(self.Connected(session, report))

    def on_connect_screen_new_host_key(self, message: NewHostKey) -> None:
        question = message.question
        self.query_one("#progress-text", Static).update(
            f"Waiting for you to check the key of {question.login.host}…"
        )

        def answer(trusted: bool | None) -> None:
            if trusted:
                self.query_one("#progress-text", Static).update(
                    f"Logging in to {describe_target(question.login)}…"
                )
            question.answer(bool(trusted))

        self.app.push_screen(
            NewHostKeyDialog(question.login.host, question.login.port, question.key), answer
        )

    def on_connect_screen_connect_failed(self, message: ConnectFailed) -> None:
        self.connecting = False
        error = message.error
        self._show_error(f"✖ Could not connect. {error}")
        if isinstance(error, AuthenticationFailed):
            self._input("password").focus()
        elif isinstance(error, HostUnreachable | HostKeyNotTrusted):
            self._input("host").focus()
        if isinstance(error, HostKeyChanged):
            self.app.push_screen(HostKeyChangedDialog(self.workshop.redact(str(error))))

    def worker_failed(self, worker: Worker[object]) -> None:
        self.connecting = False

    def _show_error(self, text: str) -> None:
        error = self.query_one("#error", Static)
        error.update(self.workshop.redact(text))
        error.display = bool(text)
