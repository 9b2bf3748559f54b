"""``workshop-tui board``: load the roster and the lessons, then open or serve the board."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from workshop_tui.core.errors import WorkshopError
from workshop_tui.core.lessons import Catalog, Lesson, load_catalog
from workshop_tui.core.roster import Roster, RosterError, Team, load_roster

if TYPE_CHECKING:
    # paramiko loads with these, and `workshop-tui --help` must not wait for it.
    from workshop_tui.core.board.poll import TeamPoller
    from workshop_tui.core.hostkeys import KnownHosts

DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8000
MIN_INTERVAL = 1.0
"""Shortest --interval in seconds; each refresh runs the checks on every VPS."""


def board_lessons(roster: Roster, catalog: Catalog) -> list[Lesson]:
    """Return the roster's lessons in its order, or every lesson of the catalog.

    Raises:
        WorkshopError: the catalog has no lessons to show.
    """
    if roster.lessons:
        # load_roster checked the ids against the catalog, so every one is found.
        return [
            lesson for lesson_id in roster.lessons if (lesson := catalog.get(lesson_id)) is not None
        ]
    lessons = list(catalog)
    if not lessons:
        raise WorkshopError("no lessons found; give a lesson directory with --lessons PATH")
    return lessons


def check_options(arguments: argparse.Namespace) -> None:
    """Fill in the defaults of --interval, --address and --port, and check their values.

    Raises:
        WorkshopError: a value is out of range, or --address or --port is given
            without --serve.
    """
    from workshop_tui.core.board.poll import DEFAULT_INTERVAL

    if arguments.interval is None:
        arguments.interval = DEFAULT_INTERVAL
    if not arguments.interval >= MIN_INTERVAL:
        raise WorkshopError(
            f"invalid --interval {arguments.interval}: give at least {MIN_INTERVAL:g} seconds"
        )
    if not arguments.serve and (arguments.address is not None or arguments.port is not None):
        raise WorkshopError("--address and --port only apply with --serve")
    if arguments.address is None:
        arguments.address = DEFAULT_ADDRESS
    if arguments.port is None:
        arguments.port = DEFAULT_PORT
    if not 1 <= arguments.port <= 65535:
        raise WorkshopError(f"invalid --port {arguments.port}: expected 1 to 65535")


def run_board(arguments: argparse.Namespace) -> int:
    """Run ``workshop-tui board`` and return the exit status."""
    check_options(arguments)
    catalog = load_catalog(arguments.lessons)
    try:
        roster = load_roster(arguments.roster, known_lessons=[lesson.id for lesson in catalog])
    except RosterError as error:
        for problem in error.problems:
            print(problem)
        count = len(error.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return 1
    for warning in roster.warnings:
        print(f"workshop-tui: warning: {warning}", file=sys.stderr)
    lessons = board_lessons(roster, catalog)
    if arguments.serve:
        from workshop_tui.ui.board.serve import serve_board, served_command

        command = served_command(
            arguments.roster, arguments.lessons, arguments.interval, debug=arguments.debug
        )
        serve_board(command, arguments.address, arguments.port, title=roster.title)
        return 0
    return _open_board(roster, lessons, arguments.interval)


def team_poller_factory(
    roster: Roster, lessons: Sequence[Lesson], known_hosts: KnownHosts
) -> Callable[[Team], TeamPoller]:
    """Return the function that creates each team's poller, with the roster's variables."""
    from workshop_tui.core.board.poll import TeamPoller
    from workshop_tui.core.roster import team_variables

    def make_poller(team: Team) -> TeamPoller:
        return TeamPoller(
            team,
            lessons,
            known_hosts=known_hosts,
            variables=team_variables(roster, team),
            roster=roster.path,
        )

    return make_poller


def _open_board(roster: Roster, lessons: list[Lesson], interval: float) -> int:
    from workshop_tui.core.hostkeys import KnownHosts
    from workshop_tui.core.paths import known_hosts_file
    from workshop_tui.ui.board.app import BoardApp

    make_poller = team_poller_factory(roster, lessons, KnownHosts(known_hosts_file()))
    app = BoardApp(roster, lessons, make_poller, interval=interval)
    app.run()
    return int(app.return_code or 0)
