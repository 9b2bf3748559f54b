"""Serving the board to a browser with textual-serve.

textual-serve starts the command it is given once per browser connection and relays
that terminal to the page. The served command is this board without ``--serve``, so
every browser tab runs its own board with its own SSH connections.
"""

from __future__ import annotations

import ipaddress
import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from workshop_tui.core.errors import WorkshopError


def is_loopback(address: str) -> bool:
    """Return whether ``address`` is ``localhost`` or an IP address of the loopback network."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def board_url(address: str, port: int) -> str:
    """Return the URL of the served board, with an IPv6 address in brackets."""
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}"


def served_command(
    roster: Path, lessons: Sequence[Path] | None, interval: float, *, debug: bool = False
) -> str:
    """Return the shell command that textual-serve runs for each browser: the same board.

    Paths are made absolute and every argument is shell-quoted, because textual-serve
    runs the command through a shell.
    """
    arguments = [sys.executable, "-m", "workshop_tui"]
    if debug:
        arguments.append("--debug")
    arguments += ["board", str(roster.resolve()), "--interval", str(interval)]
    for path in lessons or ():
        arguments += ["--lessons", str(path.resolve())]
    return shlex.join(arguments)


def check_address(address: str) -> None:
    """Reject an address that a browser cannot be sent to.

    Raises:
        WorkshopError: ``address`` is a wildcard such as 0.0.0.0. The page contains the
            URL of its websocket, so it needs the one address that the browsers reach.
    """
    try:
        unspecified = ipaddress.ip_address(address).is_unspecified
    except ValueError:
        unspecified = False
    if unspecified:
        raise WorkshopError(
            f"cannot serve the board on {address}: the page needs an address that browsers "
            "can open; give this machine's address on the room's network, "
            "e.g. --address 192.0.2.10"
        )


def check_port_free(address: str, port: int) -> None:
    """Bind ``address``:``port`` and let go again, as a test that the server can listen.

    textual-serve prints its banner, with the URL, before it binds, and offers no hook
    for when it listens. Testing first keeps a taken port from showing the URL above
    the error. Another program can still take the port between this test and the
    server's bind, and then the error follows the URL as before.

    Raises:
        WorkshopError: the address is not one of this machine's, or the port is taken.
    """
    try:
        found = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise WorkshopError(
            f"cannot serve the board on {address}: {error.strerror}; check --address"
        ) from None
    for family, kind, protocol, _, socket_address in found:
        with socket.socket(family, kind, protocol) as probe:
            # The same options as asyncio's servers use on Linux, so the test agrees
            # with the server's own bind.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(socket_address)
            except OSError as error:
                raise WorkshopError(_listen_problem(address, port, error)) from None


def _listen_problem(address: str, port: int, error: OSError) -> str:
    return (
        f"cannot serve the board on {address} port {port}: {error.strerror or error}; "
        "choose another --port or --address"
    )


def serve_board(command: str, address: str, port: int, title: str) -> None:
    """Serve ``command`` at ``address``:``port`` until Ctrl+C.

    Raises:
        WorkshopError: the address is a wildcard, or the server cannot listen on it.
            A port that is taken already is found before the URL is printed.
    """
    from textual_serve.server import Server

    check_address(address)
    check_port_free(address, port)
    url = board_url(address, port)
    if not is_loopback(address):
        print(
            f"workshop-tui: warning: anyone on the network that reaches {address} can open "
            "the board and see the team names and the hosts of their VPS (passwords are "
            "never shown).",
            file=sys.stderr,
        )
    print(f"The board is served at {url}; open it in a browser. Ctrl+C stops it.", flush=True)
    server = Server(command, host=address, port=port, title=title, public_url=url)
    try:
        server.serve()
    except OSError as error:
        raise WorkshopError(_listen_problem(address, port, error)) from None
