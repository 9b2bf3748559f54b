"""A fake VPS for the board's poller: probe batches run with the local bash in a temp home.

The fake replaces ``Connection``. Commands run for real, so the progress file, the
run output and the command checks of the test lessons are read exactly as on a VPS,
while the login, the host key, sudo, tunnels and the link follow what a test sets.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from workshop_tui.core import diagnosis
from workshop_tui.core.diagnosis.sections import SECTIONS
from workshop_tui.core.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HostKeyChanged,
    HostKeyNotTrusted,
    HostUnreachable,
    RemoteTimeout,
    SudoFailed,
)
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import Catalog, load_catalog
from workshop_tui.core.login import HostKeyInfo, Login
from workshop_tui.core.probes import Probe
from workshop_tui.core.progress import LessonProgress, RunRecord, ServerProgress
from workshop_tui.core.remote import ExecResult, NewKeyConfirmation, TunnelFailed
from workshop_tui.core.roster import Team
from workshop_tui.core.session import FACTS_COMMAND
from workshop_tui.core.shared_progress import SHARED_PROGRESS_FILE, encode_shared_progress

PASSWORD = "Team-Secret-7"
SEEN_FINGERPRINT = "SHA256:seenseenseenseenseenseenseenseenseenseenseen"
OTHER_FINGERPRINT = "SHA256:otherotherotherotherotherotherotherotherothe"

BASICS_LESSON = """\
---
id: basics
title: Basics
summary: A lesson whose checks look at files in the home directory.
variables:
  partner_host:
---

# Basics

## Read the plan

Nothing to run.

## Install the tool

```sh run
touch installed
```

```check command
title: The tool is installed
run: test -f installed
hint: Run the step.
```

```check smtp
port: 25
title: Port 25 answers SMTP
```

## Configure the tool

```sh run
echo ok > tool.conf
```

```check command
title: The configuration says ok
run: grep -q '^ok' tool.conf
```

```check command
title: The partner is reachable
run: echo {{ partner_host }}
```

## Check as root

```check command
title: The root flag exists
run: test -f rootflag
root: true
```
"""

SECOND_LESSON = """\
---
id: second
title: Second
summary: A lesson after the basics.
requires: [basics]
---

# Second

## Write a note

```check command
title: The note exists
run: test -f note
```
"""


def write_lessons(directory: Path) -> Catalog:
    """Write the two test lessons and load them."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "10-basics.md").write_text(BASICS_LESSON, encoding="utf-8")
    (directory / "20-second.md").write_text(SECOND_LESSON, encoding="utf-8")
    return load_catalog([directory])


def make_team(host_keys: tuple[str, ...] = (), name: str = "team-1") -> Team:
    login = Login(host="203.0.113.21", user="learner", password=PASSWORD)
    return Team(name=name, login=login, partner=None, host_keys=host_keys, line=7)


@dataclass
class FakeVps:
    """What the fake server does; tests change the fields between refreshes."""

    home: Path
    link_up: bool = True
    key: Literal["known", "new", "changed"] = "known"
    fingerprint: str = SEEN_FINGERPRINT
    password_accepted: bool = True
    accepted_methods: tuple[str, ...] = ("publickey", "password")
    """The login methods that the server names when it rejects a login."""

    sudo_works: bool = True
    hangs: bool = False
    """When set, every exec times out before the server responds."""

    smtp_answers: bool = False
    """When set, tunnels lead to a minimal SMTP server; otherwise they are refused."""

    execs: list[str] = field(default_factory=list)
    root_execs: int = 0

    def write_progress(self, progress: ServerProgress, *, team: str | None = "team-1") -> None:
        path = self.home / SHARED_PROGRESS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_shared_progress(progress, team=team, written_at=time.time()))

    def write_raw_progress(self, text: str) -> None:
        path = self.home / SHARED_PROGRESS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def write_run(self, run_id: str, stdout: str, stderr: str = "") -> RunRecord:
        directory = self.home / ".workshop-tui" / "runs" / run_id
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "stdout").write_text(stdout, encoding="utf-8")
        (directory / "stderr").write_text(stderr, encoding="utf-8")
        return RunRecord(run_id=run_id, remote_dir=str(directory), block=0, exit_status=0)


def progress_at(
    lesson: str,
    step: str,
    steps: dict[str, Any] | None = None,
    run: dict[str, RunRecord] | None = None,
) -> ServerProgress:
    """Return progress with the attendee at ``step`` of ``lesson``."""
    saved = LessonProgress(current_step=step, steps=dict(steps or {}), run=dict(run or {}))
    return ServerProgress(current_lesson=lesson, lessons={lesson: saved})


class FakeConnection:
    """Replaces ``workshop_tui.core.remote.Connection``, acting on a :class:`FakeVps`."""

    def __init__(self, vps: FakeVps, login: Login) -> None:
        self.vps = vps
        self.login = login
        self.is_root = False
        self.home = str(vps.home)
        self.exec_count = 0
        self.tunnel_count = 0
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open and self.vps.link_up

    def open(self, confirm_new_key: NewKeyConfirmation | None = None) -> HostKeyInfo:
        self._open = False
        if not self.vps.link_up:
            raise HostUnreachable(f"{self.login.host} port 22 did not answer within 10 s.")
        if self.vps.key == "changed":
            raise HostKeyChanged(f"The SSH host key of {self.login.host} (port 22) does not match")
        info = HostKeyInfo("ssh-ed25519", self.vps.fingerprint, self.vps.key == "new")
        if info.first_use and confirm_new_key is not None and not confirm_new_key(info):
            raise HostKeyNotTrusted("You did not trust the key")
        if not self.vps.password_accepted:
            # The message of the real login code, so the board's rewording is tested on it.
            raise AuthenticationFailed(
                "rejected", tried=["password"], accepted=self.vps.accepted_methods
            )
        self._open = True
        self.exec_count += 1  # the real open runs one exec for the uid and home directory
        return info

    def exec(
        self,
        command: str,
        *,
        stdin: bytes = b"",
        timeout: float,
        as_root: bool = False,
        on_stdout: Callable[[bytes], None] | None = None,
        collect_limit: int = 4 * 1024 * 1024,
        **_: Any,
    ) -> ExecResult:
        self.exec_count += 1
        self.vps.execs.append(command)
        if not self.is_open:
            raise ConnectionLost(f"The connection to {self.login.target} was lost.")
        if self.vps.hangs:
            raise RemoteTimeout(f"{self.login.target} did not open an SSH channel in time.")
        if as_root:
            self.vps.root_execs += 1
            if not self.vps.sudo_works:
                raise SudoFailed(f"sudo rejected the password of {self.login.user}.")
        if command == FACTS_COMMAND:
            stdout, stderr, status = b"alpha\nalpha.lab.test\n", b"", 0
        else:
            done = subprocess.run(
                ["bash", "-c", command],
                input=stdin,
                capture_output=True,
                timeout=timeout,
                cwd=self.vps.home,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(self.vps.home)},
                check=False,
            )
            stdout, stderr, status = done.stdout, done.stderr, done.returncode
        if on_stdout is not None:
            on_stdout(stdout)
        return ExecResult(status, stdout[:collect_limit], stderr)

    def open_tunnel(self, host: str, port: int, *, timeout: float) -> object:
        self.tunnel_count += 1
        if not self.is_open:
            raise ConnectionLost(f"The connection to {self.login.target} was lost.")
        if not self.vps.smtp_answers:
            raise TunnelFailed(
                f"{self.login.host} could not connect to {host}:{port}: Connection refused."
            )
        ours, theirs = socket.socketpair()
        threading.Thread(target=_serve_smtp, args=(theirs,), daemon=True).start()
        return ours

    def close(self) -> None:
        self._open = False


def _serve_smtp(sock: socket.socket) -> None:
    """Send the greeting, reply to EHLO and QUIT, then close: enough for an SMTP check."""
    with sock:
        sock.settimeout(10)
        sock.sendall(b"220 alpha.lab.test ESMTP Postfix\r\n")
        for line in sock.makefile("rb"):
            if line.upper().startswith(b"EHLO"):
                sock.sendall(b"250-alpha.lab.test\r\n250 PIPELINING\r\n")
            elif line.upper().startswith(b"QUIT"):
                sock.sendall(b"221 2.0.0 Bye\r\n")
                return


def connection_factory(vps: FakeVps) -> Callable[..., FakeConnection]:
    """Return a replacement for the ``Connection`` class that builds fakes on ``vps``."""

    def build(login: Login, known_hosts: KnownHosts, **_: Any) -> FakeConnection:
        return FakeConnection(vps, login)

    return build


MAIL_LOG_HISTORY = f"grep error /var/log/mail.log # {PASSWORD}"
"""A shell history line that names the mail log and, by mistake, the login password."""

NO_MAIL_LOG = {"history": MAIL_LOG_HISTORY, "mail-log": "mail.log missing\nrsyslog none"}
"""Evidence for the rule ``mail-log-missing``, quoting :data:`MAIL_LOG_HISTORY`."""


def serve_evidence(
    monkeypatch: pytest.MonkeyPatch,
    texts: dict[str, str],
    before: Callable[[], None] | None = None,
) -> None:
    """Make the diagnosis gather ``texts`` by section name instead of reading this machine.

    The probes still run as root in one batch through the fake connection, so sudo, the
    link and the exec count behave as for the real evidence. ``before`` runs just
    before the batch is sent.
    """

    def probes(user: str, domain: str | None) -> list[Probe]:
        if before is not None:
            before()
        return [
            Probe(f"printf '%s\\n' {shlex.quote(texts[name])}" if name in texts else ":", True)
            for name in SECTIONS
        ]

    monkeypatch.setattr(diagnosis, "evidence_probes", probes)
