"""``lab up``, ``lab status`` and ``lab down``: the practice lab on the command line.

The main CLI calls ``add_lab_commands(subparsers)``. Each command stores its
handler as ``handler`` in the parsed arguments. A handler takes the
``argparse.Namespace``, prints progress to stderr and results to stdout, and
returns the exit status: 0 on success, 1 when the lab raised LabError.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from workshop_tui.core.errors import LabError
from workshop_tui.lab.lab import DEFAULT_ROOT, Lab, LabHost, LabStatus
from workshop_tui.lab.naming import MAX_HOSTS

DEFAULT_LAB = "practice"


def _print_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _make_lab(arguments: argparse.Namespace) -> Lab:
    return Lab(arguments.name, root=arguments.root, progress=_print_progress)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return rows as left-aligned columns separated by two spaces."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def format_logins(hosts: Sequence[LabHost]) -> str:
    """Return one line per host with the SSH command, accounts and passwords."""
    header = ("HOST", "FQDN", "ADDRESS", "SSH COMMAND", "USER", "PASSWORD", "ROOT PASSWORD")
    rows = [
        (
            host.name,
            host.fqdn,
            host.address,
            f"ssh {host.user}@{host.address}" + (f" -p {host.port}" if host.port != 22 else ""),
            host.user,
            host.user_password,
            host.root_password,
        )
        for host in hosts
    ]
    return format_table(header, rows)


def format_status(status: LabStatus) -> str:
    if not status.exists:
        return f"Lab {status.name} does not exist."
    if status.subnet is None:
        found = "\n".join(f"  {item}" for item in status.leftovers)
        return (
            f"Lab {status.name} has leftovers of an earlier run ('lab down' removes them):\n{found}"
        )

    def word(flag: bool, yes: str, no: str) -> str:
        return yes if flag else no

    lines = [
        f"Lab {status.name}: network {status.subnet}, DNS and mirror on {status.bridge_address}",
        f"DNS server: {word(status.dns_running, 'running', 'stopped')};"
        f" package mirror: {word(status.mirror_running, 'running', 'stopped')}",
        "",
    ]
    rows = [
        (
            item.host.name,
            item.host.address,
            word(item.running, "running", "stopped"),
            word(item.ssh_answering, "answering", "not answering"),
            word(item.link_up, "up", "down"),
        )
        for item in status.hosts
    ]
    lines.append(format_table(("HOST", "ADDRESS", "STATE", "SSH", "LINK"), rows))
    return "\n".join(lines)


def _handle(
    action: Callable[[Lab, argparse.Namespace, TextIO], None],
) -> Callable[[argparse.Namespace], int]:
    def handler(arguments: argparse.Namespace) -> int:
        try:
            action(_make_lab(arguments), arguments, sys.stdout)
        except LabError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0

    return handler


def _up(lab: Lab, arguments: argparse.Namespace, out: TextIO) -> None:
    hosts = lab.up(arguments.count)
    pin_lab_host_keys(hosts)
    print(format_logins(hosts), file=out)


def pin_lab_host_keys(hosts: Sequence[LabHost], known_hosts: Path | None = None) -> None:
    """Make workshop-tui trust exactly these lab hosts' SSH host keys.

    A re-created lab host gets the same address but new host keys, so its old
    entry in the known_hosts file (default: the one workshop-tui uses) is
    replaced instead of being reported as a changed host key.
    """
    # Imported here because the key store loads paramiko, which `--help` must not.
    from workshop_tui.core.hostkeys import KnownHosts
    from workshop_tui.core.paths import known_hosts_file

    store = KnownHosts(known_hosts if known_hosts is not None else known_hosts_file())
    for host in hosts:
        try:
            store.pin_keys(host.address, host.port, host.host_keys)
        except ValueError as error:
            raise LabError(f"invalid SSH host key of lab host {host.name}: {error}") from error


def _status(lab: Lab, arguments: argparse.Namespace, out: TextIO) -> None:
    print(format_status(lab.status()), file=out)


def _down(lab: Lab, arguments: argparse.Namespace, out: TextIO) -> None:
    lab.down()
    print(f"Lab {lab.name} removed.", file=out)


def _host_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid host count {text!r}") from None
    if not 1 <= value <= MAX_HOSTS:
        raise argparse.ArgumentTypeError(f"host count must be 1 to {MAX_HOSTS}, not {value}")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default=DEFAULT_LAB, help=f"lab name (default {DEFAULT_LAB!r})")
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help=f"directory for the image cache and lab files (default {DEFAULT_ROOT})",
    )


def add_lab_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``lab up``, ``lab status`` and ``lab down`` on the main CLI's subparsers."""
    lab_parser = subparsers.add_parser(
        "lab",
        help="practice Debian 12 hosts on this Linux machine (needs root)",
        description="Create, inspect and remove practice hosts that behave like a fresh VPS.",
    )
    commands = lab_parser.add_subparsers(dest="lab_command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start practice hosts and print their logins")
    up.add_argument(
        "-n", "--count", type=_host_count, default=1, help="number of hosts (default 1)"
    )
    _add_common(up)
    up.set_defaults(handler=_handle(_up))

    status = commands.add_parser("status", help="show the lab's hosts, DNS and mirror")
    _add_common(status)
    status.set_defaults(handler=_handle(_status))

    down = commands.add_parser("down", help="remove the lab and everything it created")
    _add_common(down)
    down.set_defaults(handler=_handle(_down))
