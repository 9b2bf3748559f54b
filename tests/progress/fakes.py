"""A fake VPS for session tests: the progress file in its home and the connections to it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from workshop_tui.core.errors import ConnectionLost
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.login import HostKeyInfo, Login
from workshop_tui.core.progress import ProgressStore
from workshop_tui.core.remote import ExecResult
from workshop_tui.core.session import Session
from workshop_tui.core.shared_progress import (
    READ_SHARED_PROGRESS_SCRIPT,
    SHARED_PROGRESS_FILE,
    WRITE_SHARED_PROGRESS_SCRIPT,
)

LOGIN = Login(host="10.0.0.5", user="learner", password="Slip-Secret-42")

_BOUNDARY = re.compile(r"printf '\\n%s\\n' (\S+);")


class FakeHost:
    """The VPS that every :class:`FakeConnection` talks to. Its home is a real directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.fingerprint = "SHA256:first"
        self.connections: list[FakeConnection] = []

    @property
    def progress_file(self) -> Path:
        return self.home / SHARED_PROGRESS_FILE

    def drop_links(self) -> None:
        """Break every open connection, as a Wi-Fi drop does."""
        for connection in self.connections:
            connection.is_open = False


class FakeConnection:
    """Runs the two commands a session sends outside runs and checks: the host facts with
    the progress file, and the write of the progress file, which runs in a real shell."""

    host: FakeHost

    def __init__(self, login: Login, known_hosts: KnownHosts, **_: Any) -> None:
        self.login = login
        self.is_open = False
        self.is_root = False
        self.home = str(self.host.home)
        self.host.connections.append(self)

    def open(self, confirm_new_key: object = None) -> HostKeyInfo:
        self.is_open = True
        return HostKeyInfo("ssh-ed25519", self.host.fingerprint, first_use=False)

    def exec(self, command: str, *, stdin: bytes = b"", **_: Any) -> ExecResult:
        if not self.is_open:
            raise ConnectionLost(f"The connection to {self.login.target} was lost.")
        if command == WRITE_SHARED_PROGRESS_SCRIPT:
            return self._shell(command, stdin)
        # The host facts are made up; the progress file is read by the real script.
        match = _BOUNDARY.search(command)
        assert match is not None, command
        assert command.endswith(READ_SHARED_PROGRESS_SCRIPT), command
        shared = self._shell(READ_SHARED_PROGRESS_SCRIPT, b"")
        facts = f"alpha\nalpha.lab.test\n{match.group(1)}\n".encode()
        return ExecResult(shared.exit_status, facts + shared.stdout, shared.stderr)

    def _shell(self, script: str, stdin: bytes) -> ExecResult:
        result = subprocess.run(
            ["sh", "-c", script],
            input=stdin,
            capture_output=True,
            env={"HOME": str(self.host.home), "PATH": "/usr/bin:/bin"},
            check=False,
        )
        return ExecResult(result.returncode, result.stdout, result.stderr)

    def close(self) -> None:
        self.is_open = False


def new_session(tmp_path: Path, laptop: str, *, team: str | None = None) -> Session:
    """Return a session with the known hosts and progress store of one laptop."""
    directory = tmp_path / laptop
    directory.mkdir(exist_ok=True)
    return Session(
        LOGIN,
        known_hosts=KnownHosts(directory / "known_hosts"),
        progress_store=ProgressStore(directory / "progress.json"),
        team=team,
    )
