"""The ``workshop-tui`` command line.

Heavy modules (Textual, paramiko) are imported inside the handlers, so that
``workshop-tui --help`` and ``lessons check`` start quickly.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from workshop_tui import __version__
from workshop_tui.core.errors import WorkshopError
from workshop_tui.core.paths import data_dir

if TYPE_CHECKING:
    from workshop_tui.core.lessons import Catalog
    from workshop_tui.core.remote import HostKeyInfo, Login, NewKeyConfirmation
    from workshop_tui.core.roster import Roster, Team


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

    join = commands.add_parser(
        "join", help="open the lessons for your team's VPS, with the login from the roster"
    )
    join.add_argument("roster", type=Path, help="the roster file (TOML) from the facilitators")
    join.add_argument(
        "--team", required=True, metavar="NAME", help="your team's name in the roster"
    )
    _add_lesson_options(join)
    join.set_defaults(handler=_run_join)

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

    board = commands.add_parser(
        "board", help="show every team of a roster on one screen, read live from their VPS"
    )
    board.add_argument("roster", type=Path, help="the roster file (TOML)")
    board.add_argument(
        "--lessons",
        type=Path,
        action="append",
        metavar="PATH",
        help="read lessons from this file or directory (repeatable; default: the shipped lessons)",
    )
    board.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help="seconds between two reads of each team's VPS (default: 5)",
    )
    board.add_argument(
        "--serve", action="store_true", help="show the board in a web browser instead"
    )
    board.add_argument(
        "--address", help="with --serve: the address to listen on (default: 127.0.0.1)"
    )
    board.add_argument("--port", type=int, help="with --serve: the TCP port (default: 8000)")
    board.set_defaults(handler=_run_board)

    slips = commands.add_parser(
        "slips", help="write the login slips of a roster as an HTML page to print"
    )
    slips.add_argument("roster", type=Path, help="the roster file (TOML)")
    slips.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="FILE",
        help="the HTML file to write; it gets mode 0600 because it contains passwords",
    )
    slips.add_argument("--force", action="store_true", help="replace FILE if it exists")
    slips.set_defaults(handler=_run_slips)

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
    _add_lesson_options(parser)


def _add_lesson_options(parser: argparse.ArgumentParser) -> None:
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


def _run_slips(arguments: argparse.Namespace) -> int:
    from workshop_tui.core.roster import RosterError, load_roster
    from workshop_tui.slips import write_slips

    try:
        roster = load_roster(arguments.roster)
    except RosterError as error:
        for problem in error.problems:
            print(problem)
        count = len(error.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return 1
    for warning in roster.warnings:
        print(f"workshop-tui: warning: {warning}", file=sys.stderr)
    write_slips(roster, arguments.output, force=arguments.force)
    print(
        f"Wrote {_count(len(roster.teams), 'login slip')} to {arguments.output} "
        "(mode 0600, because slips contain passwords)."
    )
    print(
        "Open it in a browser, print it on A4 at 100% scale and cut along the dashed "
        'lines. For a PDF, choose "Save as PDF" as the printer.'
    )
    return 0


def _run_board(arguments: argparse.Namespace) -> int:
    from workshop_tui.ui.board.command import run_board

    return run_board(arguments)


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


def _run_join(arguments: argparse.Namespace) -> int:
    from workshop_tui.core.lessons import load_catalog
    from workshop_tui.core.roster import RosterError, load_roster, team_variables

    overrides = parse_variables(arguments.var)
    catalog = load_catalog(arguments.lessons)
    try:
        roster = load_roster(arguments.roster, known_lessons=[lesson.id for lesson in catalog])
    except RosterError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(
            "workshop-tui: the roster cannot be used; ask a facilitator to fix it",
            file=sys.stderr,
        )
        return 1
    try:
        team = roster.team(arguments.team)
    except RosterError as error:
        # The roster is fine; the name given with --team is not one of its teams.
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(
            "workshop-tui: check the team name on your slip, or give one of the teams "
            "listed above with --team NAME",
            file=sys.stderr,
        )
        return 1
    for warning in roster.warnings:
        print(f"workshop-tui: warning: {warning}", file=sys.stderr)
    return _open_app(
        team.login,
        overrides,
        arguments.lessons,
        auto_connect=True,
        catalog=catalog,
        team=team.name,
        roster_variables=team_variables(roster, team),
        new_key_check=_roster_key_check(roster, team),
    )


def _roster_key_check(roster: Roster, team: Team) -> NewKeyConfirmation | None:
    """Return a check that trusts a new host's key only when the roster lists it.

    Returns None when the team has no ``host_key``, so the app shows the new key to the
    attendee.
    """
    if not team.host_keys:
        return None
    from workshop_tui.core.errors import HostKeyNotTrusted
    from workshop_tui.core.hostkeys import format_host_port

    def check(key: HostKeyInfo) -> bool:
        if key.fingerprint in team.host_keys:
            return True
        where = format_host_port(team.login.host, team.login.port)
        raise HostKeyNotTrusted(
            f"{where} shows the host key {key.fingerprint}, which is not a host_key of "
            f"team {team.name} in {roster.path}:{team.line}. The app did not log in. "
            "Ask a facilitator to check the roster and the server."
        )

    return check


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
    catalog: Catalog | None = None,
    team: str | None = None,
    roster_variables: Mapping[str, str] | None = None,
    new_key_check: NewKeyConfirmation | None = None,
) -> int:
    """Run the attendee app.

    ``overrides`` come from ``--var`` and win over ``roster_variables``. ``catalog``
    saves loading ``lessons`` again. ``team`` and ``new_key_check`` go to the session.
    """
    from workshop_tui.core.hostkeys import KnownHosts
    from workshop_tui.core.lessons import load_catalog
    from workshop_tui.core.paths import known_hosts_file, progress_file
    from workshop_tui.core.progress import ProgressStore
    from workshop_tui.core.session import Session
    from workshop_tui.ui.app import WorkshopApp

    if catalog is None:
        catalog = load_catalog(lessons)
    _warn_about_unknown_variables(overrides, catalog)
    values = {**(roster_variables or {}), **overrides}
    known_hosts = KnownHosts(known_hosts_file())
    store = ProgressStore(progress_file())
    sessions: list[Session] = []

    def make_session(login: Login) -> Session:
        session = Session(
            login,
            known_hosts=known_hosts,
            progress_store=store,
            overrides=values,
            team=team,
            new_key_check=new_key_check,
        )
        sessions.append(session)
        return session

    app = WorkshopApp(
        catalog=catalog, login=login, session_factory=make_session, auto_connect=auto_connect
    )
    try:
        app.run()
    finally:
        # Closing writes the last change, such as a raised hand, to the progress file
        # on the VPS, and waits a few seconds at most.
        for session in sessions:
            session.close()
    return int(app.return_code or 0)
