"""`workshop-tui board` on the command line: roster problems, options, the served command."""

from __future__ import annotations

import shlex
import socket
import sys
from pathlib import Path
from typing import ClassVar

import pytest
import textual_serve.server

from workshop_tui.cli import main
from workshop_tui.core.errors import WorkshopError
from workshop_tui.ui.board import serve
from workshop_tui.ui.board.serve import (
    board_url,
    check_address,
    check_port_free,
    is_loopback,
    serve_board,
    served_command,
)

from .fakes import write_lessons

BROKEN_ROSTER = """\
[workshop]
title = "Mail server workshop"
lessons = ["no-such-lesson"]

[[team]]
name = "team-1"
host = "10.77.0.11"
user = "learner"
"""


def test_broken_roster_lists_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_lessons(tmp_path / "lessons")
    roster = tmp_path / "roster.toml"
    roster.write_text(BROKEN_ROSTER, encoding="utf-8")
    roster.chmod(0o600)
    status = main(["board", str(roster), "--lessons", str(tmp_path / "lessons")])
    captured = capsys.readouterr()
    assert status == 1
    assert f"{roster}:3: " in captured.out
    assert "no-such-lesson" in captured.out
    assert f"{roster}:5: " in captured.out
    assert "problems found" in captured.err
    assert "Traceback" not in captured.err


def test_missing_roster_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["board", str(tmp_path / "absent.toml")])
    assert status == 1
    assert "roster file not found" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--interval", "0.5"], "invalid --interval 0.5"),
        (["--port", "8001"], "--address and --port only apply with --serve"),
        (["--serve", "--port", "70000"], "invalid --port 70000"),
    ],
)
def test_invalid_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    status = main(["board", str(tmp_path / "roster.toml"), *options])
    assert status == 1
    assert message in capsys.readouterr().err


def test_served_command_quotes_paths(tmp_path: Path) -> None:
    roster = tmp_path / "my roster's file.toml"
    lessons = tmp_path / "lessons dir"
    command = served_command(roster, [lessons], 5.0)
    assert shlex.split(command) == [
        sys.executable,
        "-m",
        "workshop_tui",
        "board",
        str(roster),
        "--interval",
        "5.0",
        "--lessons",
        str(lessons),
    ]


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.0.9", True),
        ("::1", True),
        ("localhost", True),
        ("192.0.2.10", False),
        ("board.example.org", False),
    ],
)
def test_is_loopback(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_wildcard_address_rejected() -> None:
    with pytest.raises(WorkshopError, match="give this machine's address"):
        check_address("0.0.0.0")  # noqa: S104 (the address is only checked, never bound)


def test_board_url_brackets_ipv6() -> None:
    assert board_url("::1", 8000) == "http://[::1]:8000"
    assert board_url("127.0.0.1", 8001) == "http://127.0.0.1:8001"


class FakeServer:
    """Stands in for textual_serve's Server, so no socket is opened."""

    created: ClassVar[list[FakeServer]] = []

    def __init__(self, command: str, host: str, port: int, title: str, public_url: str) -> None:
        self.command = command
        self.host = host
        self.public_url = public_url
        FakeServer.created.append(self)

    def serve(self) -> None:
        pass


def no_port_check(address: str, port: int) -> None:
    """Stands in for the port check, for addresses that this machine does not have."""


def test_serve_warns_off_loopback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    monkeypatch.setattr(serve, "check_port_free", no_port_check)
    serve_board("workshop-tui board roster.toml", "192.0.2.10", 8080, "Workshop")
    captured = capsys.readouterr()
    assert "warning: anyone on the network" in captured.err
    assert "The board is served at http://192.0.2.10:8080" in captured.out
    assert FakeServer.created[-1].host == "192.0.2.10"


def test_serve_quiet_on_loopback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    monkeypatch.setattr(serve, "check_port_free", no_port_check)
    serve_board("workshop-tui board roster.toml", "127.0.0.1", 8080, "Workshop")
    assert "warning" not in capsys.readouterr().err
    assert FakeServer.created[-1].public_url == "http://127.0.0.1:8080"


def test_taken_port_fails_before_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    created = len(FakeServer.created)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(WorkshopError, match=f"port {port}: Address already in use"):
            serve_board("workshop-tui board roster.toml", "127.0.0.1", port, "Workshop")
    assert "The board is served" not in capsys.readouterr().out
    assert len(FakeServer.created) == created


def test_free_port_passes_check() -> None:
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        port = finder.getsockname()[1]
    check_port_free("127.0.0.1", port)
