"""Checking what the attendee typed into the connect form, before any network traffic."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workshop_tui.core.login import Login

MIN_PORT = 1
MAX_PORT = 65535


@dataclass(frozen=True)
class LoginForm:
    """The connect form's fields as typed; ``password`` is passed on, never shown."""

    host: str
    port: str
    user: str
    password: str = field(repr=False)
    key_file: str
    use_agent: bool = False


@dataclass(frozen=True)
class FormResult:
    """Either a login to connect with, or one message per invalid field."""

    login: Login | None
    errors: dict[str, str]
    """Messages by field name: ``host``, ``port``, ``user``, ``password`` or ``key_file``."""


def check_host(host: str) -> str | None:
    """Return why ``host`` is invalid, or None."""
    if not host:
        return "Enter the host name or address from your slip."
    if "@" in host:
        return "Put only the address here; the name before the @ goes into User."
    if any(character.isspace() for character in host):
        return "The host must not contain spaces."
    return None


def check_port(port: str) -> str | None:
    """Return why ``port`` is invalid, or None."""
    if not port:
        return "Enter the SSH port (22 unless your slip says otherwise)."
    if not port.isdigit():
        return f"The port must be a number, such as 22, not {port!r}."
    if not MIN_PORT <= int(port) <= MAX_PORT:
        return f"The port must be between {MIN_PORT} and {MAX_PORT}."
    return None


def check_user(user: str) -> str | None:
    """Return why ``user`` is invalid, or None."""
    if not user:
        return "Enter the user name from your slip."
    if any(character.isspace() or character in "@:" for character in user):
        return "The user name must not contain spaces, @ or :."
    return None


def read_form(form: LoginForm) -> FormResult:
    """Turn the typed fields into a :class:`Login`, or explain what to correct."""
    host = form.host.strip()
    port = form.port.strip()
    user = form.user.strip()
    key_text = form.key_file.strip()
    errors: dict[str, str] = {}
    for name, problem in (
        ("host", check_host(host)),
        ("port", check_port(port)),
        ("user", check_user(user)),
    ):
        if problem is not None:
            errors[name] = problem
    key_file = Path(key_text).expanduser() if key_text else None
    if key_file is not None and not key_file.is_file():
        errors["key_file"] = f"No key file at {key_file}; leave this empty to use the password."
    if not form.password and key_file is None and not form.use_agent:
        errors["password"] = "Enter the password from your slip."  # noqa: S105 (a message)
    if errors:
        return FormResult(login=None, errors=errors)
    try:
        login = Login(
            host=host,
            user=user,
            port=int(port),
            password=form.password or None,
            key_file=key_file,
            use_agent=form.use_agent,
        )
    except ValueError as error:
        # Login checks the same rules; this only catches a rule added there later.
        return FormResult(login=None, errors={"host": str(error)})
    return FormResult(login=login, errors={})


def login_complete(login: Login) -> bool:
    """Return whether ``login`` has a way to authenticate, so the app can connect at once."""
    return bool(login.password) or login.key_file is not None
