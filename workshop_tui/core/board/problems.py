"""Problems that the facilitator fixes in the roster, worded for the board.

The login code words its errors for an attendee with a slip. When the board cannot
log in to a team's VPS, the facilitator needs the team's entry in the roster instead.
"""

from __future__ import annotations

from pathlib import Path

from workshop_tui.core.errors import AuthenticationFailed
from workshop_tui.core.hostkeys import format_host_port
from workshop_tui.core.roster import Team


def roster_entry(team: Team, roster: Path | None) -> str:
    """Return where ``team`` is in the roster, as ``roster.toml:12``."""
    if roster is None:
        return f"the roster, line {team.line}"
    return f"{roster}:{team.line}"


def key_not_in_roster(team: Team, roster: Path | None, seen: str) -> str:
    """Return the problem of a VPS whose host key ``seen`` is not one of the team's host_key."""
    where = format_host_port(team.login.host, team.login.port)
    listed = ", ".join(team.host_keys)
    return (
        f"The host key of {where} is {seen}, which is not among the host_key "
        f"fingerprints of team {team.name} in {roster_entry(team, roster)}: "
        f"{listed}. Check the roster; if the VPS was reinstalled, ask its provider for "
        "the new fingerprint."
    )


def login_rejected(team: Team, roster: Path | None, error: AuthenticationFailed) -> str:
    """Return what the facilitator checks in the roster after the VPS rejected the login.

    The result keeps the login methods of ``error`` and replaces its advice for the
    attendee with the team's entry in the roster. The error's message never contains
    the password, so neither does the result.
    """
    name, login = team.name, team.login
    entry = roster_entry(team, roster)
    message = str(error)
    if not error.tried:
        # The key file could not be used: missing, unreadable, not a key, or encrypted.
        if login.key_file is not None and "encrypted" in message:
            # A team has a password or a key_file, so the roster has no passphrase.
            return (
                f"The key file {login.key_file} of team {name} is encrypted, and the board "
                f"has no passphrase for it. Give team {name} a key file without a passphrase "
                f"in {entry}."
            )
        return f"Team {name} cannot log in: {message} Its entry is {entry}."
    accepted = ", ".join(error.accepted) if error.accepted else "unknown methods"
    where = format_host_port(login.host, login.port)
    text = (
        f"{where} rejected the login of team {name} as {login.user} "
        f"(tried: {', '.join(error.tried)}; the server accepts: {accepted})."
    )
    takes_password = bool({"password", "keyboard-interactive"} & set(error.accepted))
    if login.key_file is None and error.accepted and not takes_password:
        return (
            f"{text} The server does not accept passwords: give team {name} a key_file "
            f"instead of the password in {entry}."
        )
    secret = "key_file" if login.key_file is not None else "password"
    return f"{text} Check the user and {secret} of team {name} in {entry}."
