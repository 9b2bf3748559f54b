"""``lab up``, ``lab status``, ``lab list`` and ``lab down``: the practice lab on the command line.

The main CLI calls ``add_lab_commands(subparsers)``. Each command stores its
handler as ``handler`` in the parsed arguments. A handler takes the
``argparse.Namespace``, prints progress and hints to stderr and results to
stdout, and returns the exit status: 0 on success, 1 when the lab raised
LabError or ``lab status`` found no such lab.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from workshop_tui.core.errors import LabError
from workshop_tui.lab import requirements
from workshop_tui.lab.lab import (
    DEFAULT_NAME,
    DEFAULT_ROOT,
    Lab,
    LabHost,
    LabStatus,
    count_hosts,
    lab_command,
    lab_names,
)
from workshop_tui.lab.naming import MAX_HOSTS, host_index, lab_dir


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


def _command(arguments: argparse.Namespace, action: str, options: Sequence[str] = ()) -> str:
    return lab_command(action, arguments.name, arguments.root, options)


def _up_options(status: LabStatus) -> list[str]:
    """Return the ``lab up`` options that start every host of the lab again."""
    count = max((host_index(item.host.name) for item in status.hosts), default=1)
    return ["-n", str(count)] if count > 1 else []


def describe_state(status: LabStatus) -> str:
    """Return ``up``, ``partly up``, ``down`` or ``leftovers only`` for an existing lab."""
    if status.subnet is None:
        return "leftovers only"
    if status.is_up:
        return "up"
    if status.is_down:
        return "down"
    return "partly up"


def format_status(status: LabStatus, up_command: str, down_command: str) -> str:
    """Return the ``lab status`` report of an existing lab, with its hosts' logins.

    ``up_command`` and ``down_command`` are the command lines suggested for
    starting the lab again and for removing it.
    """
    if not status.exists:
        return f"No lab named {status.name}."
    if status.subnet is None:
        found = "\n".join(f"  {item}" for item in status.leftovers)
        return (
            f"Lab {status.name} has no state file, only leftovers of an earlier run;"
            f" remove them with `{down_command}`:\n{found}"
        )

    def word(flag: bool, yes: str, no: str) -> str:
        return yes if flag else no

    state = describe_state(status)
    total = count_hosts(len(status.hosts))
    if state == "up":
        summary = f"Lab {status.name} is up with {total}."
    elif state == "down":
        summary = (
            f"Lab {status.name} is down: its {total}, DNS server and package mirror are stopped."
            f" Start it again with `{up_command}`."
        )
    else:
        summary = (
            f"Lab {status.name} is partly up: {status.running_host_count} of {total} running."
            f" Start what is stopped with `{up_command}`."
        )
    lines = [
        summary,
        f"Network {status.subnet}, DNS and package mirror on {status.bridge_address}",
        f"DNS server: {word(status.dns_running, 'running', 'stopped')};"
        f" package mirror: {word(status.mirror_running, 'running', 'stopped')}",
    ]
    if not status.hosts:
        return "\n".join(lines)

    rows = [
        (
            item.host.name,
            item.host.address,
            word(item.running, "running", "stopped"),
            _ssh_word(item.ssh_answering),
            word(item.link_up, "up", "down"),
        )
        for item in status.hosts
    ]
    lines += ["", format_table(("HOST", "ADDRESS", "STATE", "SSH", "LINK"), rows)]
    lines += ["", format_logins([item.host for item in status.hosts])]
    return "\n".join(lines)


def _ssh_word(answering: bool | None) -> str:
    if answering is None:
        return "not checked"
    return "answering" if answering else "not answering"


def format_lab_list(statuses: Sequence[LabStatus], unreadable: Sequence[str] = ()) -> str:
    """Return one row per lab, sorted by name, with its host count and state.

    ``unreadable`` names the labs whose state file could not be read.
    """
    rows = []
    for status in statuses:
        state = describe_state(status)
        if state == "partly up":
            state += f" ({status.running_host_count} of {len(status.hosts)} hosts running)"
        hosts = str(len(status.hosts)) if status.subnet is not None else "-"
        rows.append((status.name, hosts, state))
    rows += [(name, "?", "unreadable state file") for name in unreadable]
    return format_table(("LAB", "HOSTS", "STATE"), sorted(rows))


def _handle(
    action: Callable[[argparse.Namespace, TextIO], int],
) -> Callable[[argparse.Namespace], int]:
    def handler(arguments: argparse.Namespace) -> int:
        try:
            return action(arguments, sys.stdout)
        except LabError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1

    return handler


def _up(arguments: argparse.Namespace, out: TextIO) -> int:
    lab = _make_lab(arguments)
    hosts = lab.up(arguments.count)
    known_hosts = pin_lab_host_keys(hosts)
    names = ", ".join(host.name for host in hosts)
    _print_progress(f"Trusted the host keys of {names} in {known_hosts}")
    print(format_logins(hosts), file=out, flush=True)
    _write_roster(arguments, hosts)
    _print_progress(f"Show these logins again with `{_command(arguments, 'status')}`.")
    _print_progress(f"Remove the lab with `{_command(arguments, 'down')}`.")
    return 0


def _write_roster(arguments: argparse.Namespace, hosts: Sequence[LabHost]) -> None:
    """Write the roster of the lab's hosts and print the commands that use it."""
    # Imported here because the roster loads paramiko, which `--help` must not.
    from workshop_tui.core.lessons import load_catalog
    from workshop_tui.lab import roster

    path = arguments.roster or roster.default_roster_path(arguments.name)
    lessons = [lesson.id for lesson in load_catalog()]
    roster.write_lab_roster(path, arguments.name, hosts, lessons)
    roster.remember_roster_path(lab_dir(arguments.root, arguments.name), path)
    names = roster.team_names(len(hosts))
    teams = ", ".join(f"{team} on {host.name}" for team, host in zip(names, hosts, strict=True))
    _print_progress(
        f"Wrote the roster of {count_hosts(len(hosts))} to {path.absolute()} "
        f"(mode 0600, because it contains passwords): {teams}. Next:"
    )
    for line in roster.next_commands(path):
        _print_progress(line)


def pin_lab_host_keys(hosts: Sequence[LabHost], known_hosts: Path | None = None) -> Path:
    """Make workshop-tui trust exactly these lab hosts' SSH host keys; return the file.

    A re-created lab host gets the same address but new host keys, so its old
    entry in the known_hosts file (default: the one workshop-tui uses) is
    replaced instead of being reported as a changed host key.
    """
    # Imported here because the key store loads paramiko, which `--help` must not.
    from workshop_tui.core.hostkeys import KnownHosts
    from workshop_tui.core.paths import known_hosts_file

    path = known_hosts if known_hosts is not None else known_hosts_file()
    store = KnownHosts(path)
    for host in hosts:
        try:
            store.pin_keys(host.address, host.port, host.host_keys)
        except ValueError as error:
            raise LabError(f"invalid SSH host key of lab host {host.name}: {error}") from error
    return path


def _status(arguments: argparse.Namespace, out: TextIO) -> int:
    from workshop_tui.lab.roster import remembered_roster_path

    lab = _make_lab(arguments)
    status = lab.status()
    if not status.exists:
        raise LabError(f"no lab named {lab.name}; start one with `{_command(arguments, 'up')}`")
    up_command = _command(arguments, "up", _up_options(status))
    print(format_status(status, up_command, _command(arguments, "down")), file=out)
    roster_path = remembered_roster_path(lab_dir(arguments.root, arguments.name))
    if roster_path is not None:
        missing = "" if roster_path.exists() else " (the file no longer exists)"
        print(f"\nRoster: {roster_path}{missing}", file=out)
    return 0


def _list(arguments: argparse.Namespace, out: TextIO) -> int:
    requirements.check_platform()
    names = lab_names(arguments.root)
    statuses = []
    errors: dict[str, LabError] = {}
    for name in names:
        lab = Lab(name, root=arguments.root, progress=_print_progress)
        try:
            status = lab.status(check_ssh=False)
        except LabError as error:
            errors[name] = error
            continue
        # A lab removed since its directory was listed is not shown.
        if status.exists:
            statuses.append(status)

    if not statuses and not errors:
        print(f"No labs in {arguments.root / 'labs'}.", file=out, flush=True)
        _print_progress(f"Start one with `{lab_command('up', DEFAULT_NAME, arguments.root)}`.")
        return 0
    print(format_lab_list(statuses, sorted(errors)), file=out, flush=True)
    for name, failure in sorted(errors.items()):
        print(f"error: lab {name}: {failure}", file=sys.stderr)
    example = lab_command("status", "NAME", arguments.root)
    _print_progress(f"`{example}` shows a lab's hosts and logins.")
    return 0


def _down(arguments: argparse.Namespace, out: TextIO) -> int:
    lab = _make_lab(arguments)
    if lab.down():
        print(f"Lab {lab.name} removed.", file=out)
        return 0
    list_command = lab_command("list", DEFAULT_NAME, arguments.root)
    print(f"No lab named {lab.name}; nothing to remove.", file=out, flush=True)
    _print_progress(f"`{list_command}` shows the labs on this machine.")
    return 0


def _host_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid host count {text!r}") from None
    if not 1 <= value <= MAX_HOSTS:
        raise argparse.ArgumentTypeError(f"host count must be 1 to {MAX_HOSTS}, not {value}")
    return value


def _add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help=f"directory for the image cache and lab files (default {DEFAULT_ROOT})",
    )


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default=DEFAULT_NAME, help=f"lab name (default {DEFAULT_NAME!r})")
    _add_root(parser)


def add_lab_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``lab up``, ``status``, ``list`` and ``down`` on the main CLI's subparsers."""
    lab_parser = subparsers.add_parser(
        "lab",
        help="practice Debian 12 hosts on this Linux machine (needs root)",
        description="Create, inspect and remove practice hosts that behave like a fresh VPS.",
    )
    commands = lab_parser.add_subparsers(dest="lab_command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up", help="start practice hosts, print their logins and write a roster for them"
    )
    up.add_argument(
        "-n", "--count", type=_host_count, default=1, help="number of hosts (default 1)"
    )
    up.add_argument(
        "--roster",
        type=Path,
        metavar="FILE",
        help="write the roster of the hosts, one team per host, to FILE (replaced if it "
        "exists; default: ./NAME-roster.toml)",
    )
    _add_common(up)
    up.set_defaults(handler=_handle(_up))

    status = commands.add_parser(
        "status", help="show whether the lab is up, its hosts, DNS, mirror and logins"
    )
    _add_common(status)
    status.set_defaults(handler=_handle(_status))

    listing = commands.add_parser("list", help="list the labs on this machine and their state")
    _add_root(listing)
    listing.set_defaults(handler=_handle(_list))

    down = commands.add_parser("down", help="remove the lab and everything it created")
    _add_common(down)
    down.set_defaults(handler=_handle(_down))
