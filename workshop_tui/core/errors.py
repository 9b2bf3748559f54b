"""Errors that reach the attendee or facilitator as a message, never as a traceback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class WorkshopError(Exception):
    """An expected failure whose message says what failed and what to do next.

    The CLI prints the message and exits with status 1; the UI shows it in a dialog.
    The message must never contain a password.
    """


@dataclass(frozen=True)
class LessonProblem:
    """One mistake in a lesson file, at a 1-based line."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class LessonError(WorkshopError):
    """One or more lesson files are malformed; each problem names its file and line."""

    def __init__(self, problems: Sequence[LessonProblem], partial: object = None) -> None:
        self.problems = tuple(problems)
        self.partial = partial
        """The lesson as far as it could be read, for checks across lessons; or None."""
        super().__init__("\n".join(str(problem) for problem in self.problems))


class RemoteError(WorkshopError):
    """Talking to an attendee's server failed."""


class HostUnreachable(RemoteError):
    """No SSH connection could be made (DNS, routing, refused port, timeout)."""


class AuthenticationFailed(RemoteError):
    """The server rejected the login (wrong user, password or key), or no login method
    could be tried (a key file that cannot be read)."""

    def __init__(
        self, message: str, *, tried: Sequence[str] = (), accepted: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.tried = tuple(tried)
        """The login methods tried, such as ``password``; empty when none could be."""
        self.accepted = tuple(accepted)
        """The methods the server listed as accepted; empty when it listed none."""


class HostKeyChanged(RemoteError):
    """The server presented a different host key from the one trusted on first use."""


class HostKeyNotTrusted(RemoteError):
    """The attendee declined to trust a server's key on first use, so nothing was sent."""


class ConnectionLost(RemoteError):
    """An open connection broke; a reconnect can resume where it stopped."""


class RemoteTimeout(RemoteError):
    """The server did not answer in time."""


class SudoFailed(RemoteError):
    """sudo refused to run a command as root (wrong password or not allowed)."""


class LabError(WorkshopError):
    """The practice lab cannot be built, started or removed."""
