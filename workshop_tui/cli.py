"""The ``workshop-tui`` command line.

Heavy modules (Textual, paramiko) are imported inside the handlers, so that
``workshop-tui --help`` and ``lessons check`` start quickly.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from workshop_tui import __version__
from workshop_tui.core.errors import WorkshopError
from workshop_tui.core.paths import data_dir

if TYPE_CHECKING:
    from workshop_tui.core.lessons import Catalog
    from workshop_tui.core.remote import Login


def parse_target(text: str) -> tuple[str, str, int]:
    """Split ``user@host[:port]`` (IPv6 as ``user@[addr]:port``) into its parts.

    Raises:
        WorkshopError: the text does not have that form.
    """
    from workshop_tui.core.hostkeys import parse_host_port

    user, at, rest = text.rpartition("@")
    if not at or not user or not rest:
        raise WorkshopError(
            f"invalid login '{text}'; write it as user@host or user@host:port, as on your slip"
        )
    try:
        host, port = parse_host_port(rest)
    except ValueError as error:
        raise WorkshopError(f"invalid login '{text}': {error}") from None
    return user, host, port


def parse_variables(pairs: Sequence[str]) -> dict[str, str]:
    """Turn ``NAME=VALUE`` arguments into a mapping.

    Raises:
        WorkshopError: an argument has no ``=`` or an invalid name.
    """
    values: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.isidentifier():
            raise WorkshopError(
                f"invalid --var '{pair}'; write it as NAME=VALUE, "
                "for example --var domain=example.org"
            )
        values[name] = value
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workshop-tui",
        description="Interactive lessons that set up a mail server on your own VPS over SSH.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="log details to workshop-tui.log in the data directory"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    connect = commands.add_parser("connect", help="open the lessons for your VPS (the default)")
    connect.add_argument("target", nargs="?", help="your login as user@host or user@host:port")
    _add_session_options(connect)
    connect.set_defaults(handler=_run_connect)

    practice = commands.add_parser(
        "practice",
        help="start a practice lab host on this machine (as root) and open the "
        "lessons connected to it",
    )
    practice.add_argument("--name", default="practice", help="lab name (default: practice)")
    practice.add_argument(
        "--root-login",
        action="store_true",
        help="log in as root instead of the lab's normal sudo user",
    )
    _add_session_options(practice)
    practice.set_defaults(handler=_run_practice)

    lessons = commands.add_parser("lessons", help="work with lesson files")
    lesson_commands = lessons.add_subparsers(
        dest="lessons_command", metavar="ACTION", required=True
    )
    check = lesson_commands.add_parser(
        "check", help="validate lessons and print file:line problems"
    )
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="lesson files or directories (default: the shipped lessons)",
    )
    check.set_defaults(handler=_run_lessons_check)

    hosts = commands.add_parser("hosts", help="manage trusted host keys")
    host_commands = hosts.add_subparsers(dest="hosts_command", metavar="ACTION", required=True)
    forget = host_commands.add_parser(
        "forget", help="forget the trusted key of a host, e.g. after its VPS was reinstalled"
    )
    forget.add_argument("host", help="HOST or HOST:PORT")
    forget.set_defaults(handler=_run_hosts_forget)

    from workshop_tui.lab.cli import add_lab_commands

    add_lab_commands(commands)
    return parser


def _add_session_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key",
        type=Path,
        metavar="FILE",
        help="log in with this private key file instead of a password",
    )
    parser.add_argument("--agent", action="store_true", help="log in with keys from ssh-agent")
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a lesson variable, e.g. --var domain=example.org",
    )
    parser.add_argument(
        "--lessons",
        type=Path,
        action="append",
        metavar="PATH",
        help="read lessons from this file or directory (repeatable; default: the shipped lessons)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.debug:
        _enable_debug_log()
    handler = getattr(arguments, "handler", _run_connect)
    if not hasattr(arguments, "target"):
        arguments.target = None
    try:
        return int(handler(arguments))
    except WorkshopError as error:
        print(f"workshop-tui: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # The last resort: report the error, never dump a traceback.
        report = _write_crash_report()
        print(
            f"workshop-tui: unexpected error: {type(error).__name__}: {error}\n"
            f"Details were saved to {report}; please attach that file when you report it.",
            file=sys.stderr,
        )
        return 70


def _enable_debug_log() -> None:
    path = data_dir() / "workshop-tui.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=path, level=logging.DEBUG, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # paramiko at DEBUG logs packet details but never passwords; keep it at INFO anyway.
    logging.getLogger("paramiko").setLevel(logging.INFO)


def _write_crash_report() -> Path:
    """Save the current exception's traceback (code lines only, no local values)."""
    directory = data_dir() / "crash-reports"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"crash-{datetime.now():%Y%m%d-%H%M%S}.txt"
    path.write_text(traceback.format_exc(), encoding="utf-8")
    return path


def _run_lessons_check(arguments: argparse.Namespace) -> int:
    from workshop_tui.core.errors import LessonError
    from workshop_tui.core.lessons import load_catalog

    try:
        catalog = load_catalog(arguments.paths or None)
    except LessonError as error:
        for problem in error.problems:
            print(problem)
        count = len(error.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return 1
    steps = sum(len(lesson.steps) for lesson in catalog)
    checks = sum(len(step.checks) for lesson in catalog for step in lesson.steps)
    print(
        f"{_count(len(catalog), 'lesson')}, {_count(steps, 'step')}, "
        f"{_count(checks, 'check')}: all valid"
    )
    for lesson in catalog:
        print(f"  {lesson.id}: {lesson.title} ({lesson.path})")
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _run_hosts_forget(arguments: argparse.Namespace) -> int:
    from workshop_tui.core.hostkeys import KnownHosts, format_host_port, parse_host_port
    from workshop_tui.core.paths import known_hosts_file

    try:
        host, port = parse_host_port(arguments.host)
    except ValueError as error:
        raise WorkshopError(
            f"invalid host '{arguments.host}': {error}; write HOST or HOST:PORT"
        ) from None
    removed = KnownHosts(known_hosts_file()).forget(host, port)
    where = format_host_port(host, port)
    if not removed:
        print(f"No trusted key was stored for {where}; nothing to forget.")
        return 0
    print(
        f"Forgot the trusted key of {where}. The next connection trusts the key it is "
        "shown; compare its fingerprint with your slip."
    )
    return 0


def _run_connect(arguments: argparse.Namespace) -> int:
    from workshop_tui.core.remote import Login

    overrides = parse_variables(arguments.var) if hasattr(arguments, "var") else {}
    login = None
    if arguments.target:
        user, host, port = parse_target(arguments.target)
        try:
            login = Login(
                host=host,
                user=user,
                port=port,
                key_file=getattr(arguments, "key", None),
                use_agent=getattr(arguments, "agent", False),
            )
        except ValueError as error:
            raise WorkshopError(f"invalid login '{arguments.target}': {error}") from None
    lessons = getattr(arguments, "lessons", None)
    return _open_app(
        login, overrides, lessons, auto_connect=bool(login and (login.key_file or login.use_agent))
    )


def _run_practice(arguments: argparse.Namespace) -> int:
    from workshop_tui.core.remote import Login
    from workshop_tui.lab import Lab
    from workshop_tui.lab.cli import format_logins, pin_lab_host_keys
    from workshop_tui.lab.lab import lab_command

    lab = Lab(arguments.name, progress=lambda line: print(line, file=sys.stderr))
    hosts = lab.up(1)
    pin_lab_host_keys(hosts)
    host = hosts[0]
    # The practice host's login plays the part of the paper slip: sudo in the terminal
    # asks for this password, which the app otherwise types by itself.
    print(format_logins(hosts[:1]))
    print(
        f"Keep this login at hand: sudo asks for the password of {host.user}, and "
        f"`{lab_command('status', arguments.name)}` shows it again."
    )
    if sys.stdin.isatty():
        input("Press Enter to open the lessons. ")
    if arguments.root_login:
        login = Login(host=host.address, user="root", port=host.port, password=host.root_password)
    else:
        login = Login(
            host=host.address, user=host.user, port=host.port, password=host.user_password
        )
    overrides = parse_variables(arguments.var)
    return _open_app(login, overrides, arguments.lessons, auto_connect=True)


def _warn_about_unknown_variables(overrides: dict[str, str], catalog: Catalog) -> None:
    from workshop_tui.core.variables import BUILTIN_VARIABLES

    known = set(BUILTIN_VARIABLES).union(*(lesson.variables for lesson in catalog))
    for name in sorted(set(overrides) - known):
        print(
            f"workshop-tui: warning: no lesson uses the variable '{name}' from --var; "
            f"known variables: {', '.join(sorted(known))}",
            file=sys.stderr,
        )


def _open_app(
    login: Login | None,
    overrides: dict[str, str],
    lessons: list[Path] | None,
    *,
    auto_connect: bool,
) -> int:
    from workshop_tui.core.hostkeys import KnownHosts
    from workshop_tui.core.lessons import load_catalog
    from workshop_tui.core.paths import known_hosts_file, progress_file
    from workshop_tui.core.progress import ProgressStore
    from workshop_tui.core.session import Session
    from workshop_tui.ui.app import WorkshopApp

    catalog = load_catalog(lessons)
    _warn_about_unknown_variables(overrides, catalog)
    known_hosts = KnownHosts(known_hosts_file())
    store = ProgressStore(progress_file())

    def make_session(login: Login) -> Session:
        return Session(login, known_hosts=known_hosts, progress_store=store, overrides=overrides)

    app = WorkshopApp(
        catalog=catalog, login=login, session_factory=make_session, auto_connect=auto_connect
    )
    app.run()
    return int(app.return_code or 0)
