"""Validation of a parsed roster file, which collects every problem with its line.

``workshop_tui.core.roster.load_roster`` is the public entry point. tomllib reports no
line numbers for values, so each problem's line comes from ``scan_tables``: the line of
the key when it is found, else the header of its table.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import stat
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TypeGuard

from workshop_tui.core.hostkeys import DEFAULT_SSH_PORT, normalize_fingerprint
from workshop_tui.core.login import Login
from workshop_tui.core.roster import DEFAULT_TITLE, Roster, Team
from workshop_tui.core.toml_text import TableLines

TEAM_KEYS = (
    "name", "host", "port", "user", "password", "key_file", "partner", "host_key", "domain",
)  # fmt: skip
WORKSHOP_KEYS = ("title", "lessons")


MAIL_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
"""A DNS name of at least two labels, as the domain part of a mail address."""


class RosterReader:
    """Turn parsed TOML into a Roster, collecting every problem with its line."""

    def __init__(
        self, path: Path, tables: list[TableLines], known_lessons: Collection[str] | None
    ) -> None:
        self.path = path
        self.tables = tables
        self.root = tables[0]
        self.team_tables = [table for table in tables if table.name == "team" and table.array]
        self.known_lessons = known_lessons
        self._problems: list[tuple[int, str]] = []

    @property
    def problems(self) -> list[str]:
        """The problems found so far, ordered by line."""
        ordered = sorted(self._problems, key=lambda problem: problem[0])
        return [f"{self.path}:{line}: {message}" for line, message in ordered]

    def problem(self, line: int, message: str) -> None:
        self._problems.append((line, message))

    def read(self, data: dict[str, object]) -> Roster:
        for key in data:
            if key not in ("workshop", "team"):
                line = self.root.keys.get(key) or self._table_line(key)
                self.problem(
                    line,
                    f"unknown top-level key or table '{key}'; a roster has one [workshop] "
                    "table and one [[team]] table per team",
                )
        title, lessons = self._read_workshop(data.get("workshop", {}))
        teams = self._read_teams(data.get("team"))
        return Roster(self.path, title, lessons, teams, self._warnings(teams))

    def _table_line(self, name: str, *, array: bool | None = None) -> int:
        """Return the header line of the first table ``name`` (or ``name.sub``), else 1."""
        for table in self.tables[1:]:
            if table.name.split(".")[0].strip("\"'") == name and array in (None, table.array):
                return table.header
        return self.root.keys.get(name, 1)

    def _workshop_lines(self) -> TableLines:
        for table in self.tables[1:]:
            if table.name == "workshop" and not table.array:
                return table
        return TableLines(name="workshop", array=False, header=self._table_line("workshop"))

    def _read_workshop(self, value: object) -> tuple[str, tuple[str, ...]]:
        lines = self._workshop_lines()
        if not isinstance(value, dict):
            self.problem(lines.header, "'workshop' must be a table: write [workshop]")
            return DEFAULT_TITLE, ()
        self._unknown_keys(value, WORKSHOP_KEYS, lines, "[workshop]")
        title = value.get("title", DEFAULT_TITLE)
        title_line = lines.keys.get("title", lines.header)
        if not isinstance(title, str) or not title.strip():
            self.problem(
                title_line,
                f"title must be a non-empty string, not {_describe(title)}; "
                f"remove it to use '{DEFAULT_TITLE}'",
            )
            title = DEFAULT_TITLE
        return title, self._read_lessons(value.get("lessons", []), lines)

    def _read_lessons(self, value: object, lines: TableLines) -> tuple[str, ...]:
        line = lines.keys.get("lessons", lines.header)
        if not _is_string_list(value):
            self.problem(
                line,
                f'lessons must be a list of lesson ids such as ["postfix"], not {_describe(value)}',
            )
            return ()

        lessons: list[str] = []
        for lesson in value:
            if lesson in lessons:
                self.problem(line, f"lesson '{lesson}' is listed twice; remove one")
                continue
            if self.known_lessons is not None and lesson not in self.known_lessons:
                known = ", ".join(sorted(self.known_lessons)) or "none"
                self.problem(line, f"unknown lesson '{lesson}'; the known lessons are: {known}")
            lessons.append(lesson)
        return tuple(lessons)

    def _read_teams(self, value: object) -> tuple[Team, ...]:
        if isinstance(value, dict):
            line = self._table_line("team", array=False)
            self.problem(line, "write each team as [[team]] with double brackets, not [team]")
            return ()
        if not isinstance(value, list) or not value:
            line = self._table_line("team") if value is not None else 1
            self.problem(line, "the roster has no teams; add a [[team]] table for each team")
            return ()
        entries: list[tuple[dict[str, object], TableLines]] = []
        for index, item in enumerate(value):
            lines = self._team_lines(index)
            if isinstance(item, dict):
                entries.append((item, lines))
            else:
                self.problem(lines.header, f"a team must be a table, not {_describe(item)}")
        names = self._check_names(entries)
        teams = [self._read_team(item, lines, names) for item, lines in entries]
        return tuple(team for team in teams if team is not None)

    def _team_lines(self, index: int) -> TableLines:
        if index < len(self.team_tables):
            return self.team_tables[index]
        # Teams written as inline tables have no [[team]] header of their own.
        return TableLines(name="team", array=True, header=self._table_line("team"))

    def _check_names(self, entries: list[tuple[dict[str, object], TableLines]]) -> set[str]:
        """Report duplicate team names and return the set of casefolded names."""
        seen: dict[str, tuple[str, int]] = {}
        for item, lines in entries:
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                continue
            line = lines.keys.get("name", lines.header)
            first = seen.get(name.casefold())
            if first is not None:
                self.problem(
                    line,
                    f"duplicate team name '{name}': line {first[1]} already names team "
                    f"'{first[0]}' (names ignore case); give each team its own name",
                )
            else:
                seen[name.casefold()] = (name, line)
        return set(seen)

    def _read_team(
        self, item: dict[str, object], lines: TableLines, names: set[str]
    ) -> Team | None:
        before = len(self._problems)
        self._unknown_keys(item, TEAM_KEYS, lines, "[[team]]")
        name = self._string(item, "name", lines, "this team")
        label = f"team '{name}'" if name else "this team"
        host = self._string(item, "host", lines, label)
        user = self._string(item, "user", lines, label)
        port = self._port(item, lines)
        password = self._string(item, "password", lines, label, required=False)
        key_file = self._key_file(item, lines, label)
        if "password" in item and "key_file" in item:
            self.problem(
                lines.keys.get("key_file", lines.header),
                f"{label} has both a password and a key_file; keep only one of them",
            )
        elif "password" not in item and "key_file" not in item:
            self.problem(
                lines.header,
                f"{label} has no password or key_file; add one of them for the login",
            )
        partner = self._partner(item, lines, name, names)
        host_keys = self._host_keys(item, lines)
        domain = self._domain(item, lines, label)
        if len(self._problems) > before or not (name and host and user):
            return None
        try:
            login = Login(host=host, user=user, port=port, password=password, key_file=key_file)
        except ValueError as error:
            self.problem(lines.header, f"{label}: {error}")
            return None
        return Team(name, login, partner, host_keys, lines.header, domain=domain)

    def _domain(self, item: dict[str, object], lines: TableLines, label: str) -> str | None:
        domain = self._string(item, "domain", lines, label, required=False)
        if domain is not None and not MAIL_DOMAIN.match(domain):
            self.problem(
                lines.keys.get("domain", lines.header),
                f"domain '{domain}' is not a mail domain; write a name such as "
                '"team1.example.org", without a user or port',
            )
            return None
        return domain

    def _unknown_keys(
        self, table: dict[str, object], known: Sequence[str], lines: TableLines, where: str
    ) -> None:
        for key in table:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            self.problem(
                lines.keys.get(key, lines.header),
                f"unknown key '{key}' in {where}; {guess}known keys: {', '.join(sorted(known))}",
            )

    def _string(
        self,
        item: dict[str, object],
        key: str,
        lines: TableLines,
        label: str,
        *,
        required: bool = True,
    ) -> str | None:
        if key not in item:
            if required:
                self.problem(lines.header, f"{label} is missing '{key}'; add {key} = \"...\"")
            return None
        value = item[key]
        line = lines.keys.get(key, lines.header)
        if not isinstance(value, str):
            self.problem(line, f"{key} must be a string in quotes, not {_describe(value)}")
            return None
        if not value.strip():
            self.problem(line, f"{key} is empty; write the {key} or remove the line")
            return None
        if key in ("host", "user") and any(character.isspace() for character in value):
            self.problem(line, f"{key} '{value}' contains spaces; remove them")
            return None
        if key in ("host", "user") and "@" in value:
            self.problem(
                line,
                f"{key} '{value}' contains '@'; write the login name in user, the address in host",
            )
            return None
        if key == "user" and ":" in value:
            self.problem(line, f"user '{value}' contains ':'; write the port in port")
            return None
        return value

    def _port(self, item: dict[str, object], lines: TableLines) -> int:
        value = item.get("port", DEFAULT_SSH_PORT)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
            return value
        line = lines.keys.get("port", lines.header)
        self.problem(line, f"port must be a number from 1 to 65535, not {_describe(value)}")
        return DEFAULT_SSH_PORT

    def _key_file(self, item: dict[str, object], lines: TableLines, label: str) -> Path | None:
        text = self._string(item, "key_file", lines, label, required=False)
        if text is None:
            return None
        path = self.path.absolute().parent / Path(text).expanduser()
        if not path.is_file():
            self.problem(
                lines.keys.get("key_file", lines.header),
                f"key file {path} not found; check key_file (a relative path starts "
                "at the roster's directory)",
            )
        return path

    def _partner(
        self, item: dict[str, object], lines: TableLines, name: str | None, names: set[str]
    ) -> str | None:
        partner = self._string(item, "partner", lines, "team", required=False)
        if partner is None:
            return None
        line = lines.keys.get("partner", lines.header)
        if name is not None and partner.casefold() == name.casefold():
            self.problem(line, f"team '{name}' cannot be its own partner; name another team")
        elif partner.casefold() not in names:
            self.problem(line, f"partner '{partner}' is not a team in this roster; check its name")
        return partner

    def _host_keys(self, item: dict[str, object], lines: TableLines) -> tuple[str, ...]:
        value = item.get("host_key", [])
        line = lines.keys.get("host_key", lines.header)
        values = [value] if isinstance(value, str) else value
        if not _is_string_list(values):
            self.problem(
                line,
                'host_key must be a fingerprint "SHA256:..." or a list of them, '
                f"not {_describe(value)}",
            )
            return ()
        fingerprints: list[str] = []
        for text in values:
            normalized = normalize_fingerprint(text)
            if normalized is None:
                self.problem(
                    line,
                    f"invalid host_key '{text}'; write the SHA256 fingerprint as "
                    '`ssh-keygen -lf KEYFILE` prints it, e.g. "SHA256:uNiVztksCsDhcc0u9e8Bu..."',
                )
            else:
                fingerprints.append(normalized)
        return tuple(fingerprints)

    def _warnings(self, teams: Sequence[Team]) -> tuple[str, ...]:
        if os.name != "posix" or not any(team.login.password for team in teams):
            return ()
        try:
            mode = stat.S_IMODE(self.path.stat().st_mode)
        except OSError:
            return ()
        if not mode & 0o044:
            return ()
        return (
            f"{self.path}: the roster contains passwords and other users can read it "
            f"(mode {mode:04o}); restrict it with `chmod 600 {shlex.quote(str(self.path))}`",
        )


def _is_string_list(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _describe(value: object) -> str:
    """Name a TOML value's type for a message, e.g. ``the string '22'``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"the string '{value}'" if value else "an empty string"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__} value"
