"""The roster: one TOML file that lists a workshop's teams and how to log in to their VPS.

The format is described in docs/roster-format.md. ``load_roster`` reports every problem
of a file at once, each as ``file:line: message``; the checks are in ``roster_reader``.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workshop_tui.core.errors import WorkshopError
from workshop_tui.core.files import write_atomic
from workshop_tui.core.hostkeys import DEFAULT_SSH_PORT
from workshop_tui.core.login import Login
from workshop_tui.core.toml_text import (
    scan_tables,
    syntax_error_line,
    toml_string,
    toml_string_list,
)

DEFAULT_TITLE = "Workshop"


class RosterError(WorkshopError):
    """A roster file is missing or malformed, or a team is not in it.

    ``problems`` contains one ``file:line: message`` per problem, or ``file: message`` for a
    problem that belongs to no single line (a missing file, an unknown team name).
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Team:
    """One team of the roster and the login of its VPS."""

    name: str
    login: Login
    partner: str | None
    host_keys: tuple[str, ...]
    """Fingerprints (``SHA256:...``) of which the server must show one; empty: trust on
    first use."""
    line: int
    """1-based line of this team's ``[[team]]`` header; 0 for a team not read from a file."""
    domain: str | None = None
    """The mail domain of the team's VPS; None: the app uses what ``hostname -f`` prints."""


@dataclass(frozen=True)
class Roster:
    """A loaded, valid roster file."""

    path: Path
    title: str
    lessons: tuple[str, ...]
    """Lesson ids in workshop order; empty means every lesson of the catalog."""
    teams: tuple[Team, ...]
    warnings: tuple[str, ...] = field(default=())
    """Problems that do not stop the roster from being used, e.g. a readable password."""

    def team(self, name: str) -> Team:
        """Return the team called ``name``, ignoring case.

        Raises:
            RosterError: no team has that name; the message lists the teams.
        """
        wanted = name.casefold()
        for team in self.teams:
            if team.name.casefold() == wanted:
                return team
        known = ", ".join(team.name for team in self.teams)
        raise RosterError([f"{self.path}: no team named '{name}'; the teams are: {known}"])

    def partner_of(self, team: Team) -> Team | None:
        """Return the partner team of ``team``, or None when it has none."""
        if team.partner is None:
            return None
        return self.team(team.partner)


def team_variables(roster: Roster, team: Team) -> dict[str, str]:
    """Return the lesson variables that the roster sets for ``team``.

    ``team`` is always present, ``domain`` when the roster sets the team's domain.
    ``partner``, ``partner_host`` and ``partner_user`` (the partner's login name, which
    is also its mail user) are present when the team has a partner, and
    ``partner_domain`` when the partner's domain is known: its ``domain``, or else its
    host when that is a name and not an IP address.
    """
    variables = {"team": team.name}
    if team.domain is not None:
        variables["domain"] = team.domain
    partner = roster.partner_of(team)
    if partner is not None:
        variables["partner"] = partner.name
        variables["partner_host"] = partner.login.host
        variables["partner_user"] = partner.login.user
        partner_domain = partner.domain or _host_name(partner.login.host)
        if partner_domain is not None:
            variables["partner_domain"] = partner_domain
    return variables


def _host_name(host: str) -> str | None:
    """Return ``host`` when it is a DNS name with a dot, None for an IP address."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host if "." in host else None
    return None


def load_roster(path: Path, known_lessons: Collection[str] | None = None) -> Roster:
    """Read and validate a roster file.

    Args:
        path: The roster file. A ``key_file`` in it is relative to its directory.
        known_lessons: Lesson ids that ``lessons`` may name; None skips that check.

    Raises:
        RosterError: the file cannot be read or has problems; all of them are listed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RosterError([f"{path}: roster file not found; check the path"]) from None
    except UnicodeDecodeError as error:
        raise RosterError(
            [f"{path}: the roster is not UTF-8 text ({error.reason}); save it as UTF-8"]
        ) from None
    except OSError as error:
        raise RosterError([f"{path}: cannot read the roster: {error.strerror}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, message = syntax_error_line(text, error)
        raise RosterError(
            [f"{path}:{line}: invalid TOML: {message}; see docs/roster-format.md for the syntax"]
        ) from None
    # The reader builds this module's Team and Roster, so importing it at the top
    # would be circular.
    from workshop_tui.core.roster_reader import RosterReader

    reader = RosterReader(path, scan_tables(text), known_lessons)
    roster = reader.read(data)
    if reader.problems:
        raise RosterError(reader.problems)
    return roster


def write_roster(path: Path, title: str, lessons: Sequence[str], teams: Sequence[Team]) -> None:
    """Write a roster file atomically with mode 0600, because it can contain passwords.

    A team's ``key_file`` is written relative to the roster's directory when it is inside
    it, so ``load_roster`` reads back the same teams.
    """
    directory = path.absolute().parent
    parts = ["[workshop]", f"title = {toml_string(title)}"]
    if lessons:
        parts.append(f"lessons = {toml_string_list(lessons)}")
    for team in teams:
        login = team.login
        parts += ["", "[[team]]", f"name = {toml_string(team.name)}"]
        parts.append(f"host = {toml_string(login.host)}")
        if login.port != DEFAULT_SSH_PORT:
            parts.append(f"port = {login.port}")
        parts.append(f"user = {toml_string(login.user)}")
        if login.password is not None:
            parts.append(f"password = {toml_string(login.password)}")
        if login.key_file is not None:
            key_file = login.key_file.absolute()
            if key_file.is_relative_to(directory):
                key_file = key_file.relative_to(directory)
            parts.append(f"key_file = {toml_string(str(key_file))}")
        if team.partner is not None:
            parts.append(f"partner = {toml_string(team.partner)}")
        if team.host_keys:
            parts.append(f"host_key = {toml_string_list(team.host_keys)}")
        if team.domain is not None:
            parts.append(f"domain = {toml_string(team.domain)}")
    write_atomic(path, ("\n".join(parts) + "\n").encode("utf-8"))
