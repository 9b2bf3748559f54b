"""`workshop-tui board --serve`: the page is served on 127.0.0.1 and names its websocket."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from .fakes import PASSWORD

REPOSITORY = Path(__file__).resolve().parents[3]

ROSTER = f"""\
[workshop]
title = "Served workshop"

[[team]]
name = "team-1"
host = "127.0.0.1"
port = 1
user = "learner"
password = "{PASSWORD}"
"""

START_SECONDS = 60
"""How long the server may take to listen; only a broken start takes this long."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def child_pids(pid: int) -> list[int]:
    """Return the processes whose parent is ``pid``, read from /proc."""
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


@contextlib.contextmanager
def served_board(roster: Path, port: int, output: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``board --serve`` on 127.0.0.1:``port``; end it and its boards by PID afterwards."""
    with output.open("wb") as sink:
        command = [sys.executable, "-m", "workshop_tui", "board", str(roster), "--serve"]
        # The served boards keep their trusted host keys in the test's own data directory.
        environment = {**os.environ, "WORKSHOP_TUI_DATA_DIR": str(output.parent / "data")}
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=REPOSITORY,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_listening(process, port)
            yield process
        finally:
            # The server starts one board per browser connection as its child.
            boards = child_pids(process.pid)
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for pid in boards:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)


def write_roster(directory: Path) -> Path:
    roster = directory / "roster.toml"
    roster.write_text(ROSTER, encoding="utf-8")
    roster.chmod(0o600)
    return roster


def test_serve_answers_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    output = tmp_path / "output.txt"
    with served_board(write_roster(tmp_path), port, output):
        # No proxy from the environment: the request must go to 127.0.0.1 itself.
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(f"http://127.0.0.1:{port}/", timeout=10) as response:
            status = response.status
            page = response.read().decode("utf-8")
    assert status == 200
    assert f"ws://127.0.0.1:{port}/ws" in page
    printed = output.read_text(encoding="utf-8")
    assert f"The board is served at http://127.0.0.1:{port}" in printed
    assert "warning" not in printed
    assert PASSWORD not in printed


async def read_board(port: int, expected: str) -> str:
    """Open the board's websocket as a browser would and read until ``expected`` shows."""
    received = b""
    url = f"http://127.0.0.1:{port}/ws?width=100&height=30"
    async with (
        aiohttp.ClientSession(trust_env=False) as session,
        session.ws_connect(url) as websocket,
    ):
        deadline = time.monotonic() + START_SECONDS
        while expected.encode() not in received and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                message = await asyncio.wait_for(websocket.receive(), timeout=1)
                if message.type == aiohttp.WSMsgType.BINARY:
                    received += message.data
                elif message.type == aiohttp.WSMsgType.TEXT:
                    received += message.data.encode()
                else:
                    break
    return received.decode("utf-8", "replace")


def test_served_page_runs_board(tmp_path: Path) -> None:
    # The roster's only team is 127.0.0.1 port 1, where nothing listens.
    port = free_port()
    with served_board(write_roster(tmp_path), port, tmp_path / "output.txt"):
        screen = asyncio.run(read_board(port, "UNREACHABLE"))
    assert "Served workshop" in screen
    assert "UNREACHABLE" in screen
    assert PASSWORD not in screen
