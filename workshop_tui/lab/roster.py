"""The roster of a practice lab: one team per lab host, written by ``lab up``.

The teams are ``team-1`` to ``team-N`` in host order and work in pairs (1 with 2, 3 with
4, ...). With an odd count the last team's partner is ``team-1``, but ``team-1`` keeps
``team-2`` as its own partner. Each team logs in as the lab's sudo user with its
password, and the roster pins the fingerprints of every host key of its lab host.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

from workshop_tui.core.errors import LabError
from workshop_tui.core.files import write_atomic
from workshop_tui.core.hostkeys import fingerprint_from_base64
from workshop_tui.core.login import Login
from workshop_tui.core.roster import Team, write_roster
from workshop_tui.lab.lab import LabHost

ROSTER_PATH_FILE = "roster-path"
"""File in the lab's directory that stores where ``lab up`` last wrote the roster."""


def default_roster_path(lab_name: str) -> Path:
    """Return ``<lab name>-roster.toml`` in the current directory, as a relative path."""
    return Path(f"{lab_name}-roster.toml")


def team_names(count: int) -> list[str]:
    return [f"team-{number}" for number in range(1, count + 1)]


def partner_names(names: Sequence[str]) -> list[str | None]:
    """Return the partner of each team: pairs 1-2, 3-4, ...; an odd last team gets the first.

    A single team has no partner.
    """
    partners: list[str | None] = []
    for index in range(len(names)):
        if index % 2 == 1:
            partners.append(names[index - 1])
        elif index + 1 < len(names):
            partners.append(names[index + 1])
        elif index > 0:
            partners.append(names[0])
        else:
            partners.append(None)
    return partners


def lab_teams(hosts: Sequence[LabHost]) -> list[Team]:
    """Return one team per lab host, in host order, for the lab's sudo user.

    Raises:
        LabError: a host key of a lab host is not a valid public key.
    """
    names = team_names(len(hosts))
    teams = []
    for host, name, partner in zip(hosts, names, partner_names(names), strict=True):
        try:
            host_keys = tuple(
                fingerprint_from_base64(key_type, key_base64)
                for key_type, key_base64 in host.host_keys
            )
        except ValueError as error:
            raise LabError(f"invalid SSH host key of lab host {host.name}: {error}") from error
        login = Login(
            host=host.address, user=host.user, port=host.port, password=host.user_password
        )
        # line 0: the team is not read from a file.
        teams.append(Team(name, login, partner, host_keys, line=0, domain=host.fqdn))
    return teams


def write_lab_roster(
    path: Path, lab_name: str, hosts: Sequence[LabHost], lessons: Sequence[str]
) -> None:
    """Write the roster of the lab's hosts to ``path`` with mode 0600.

    Under sudo (``SUDO_UID`` and ``SUDO_GID`` set, running as root) the file is given to
    the user who ran sudo, so the facilitator can use it without sudo.

    Raises:
        LabError: a host key is invalid, or the file cannot be written or given away.
    """
    teams = lab_teams(hosts)
    try:
        write_roster(path, f"Practice lab {lab_name}", lessons, teams)
    except OSError as error:
        raise LabError(f"cannot write the lab roster {path}: {error.strerror}") from error
    give_to_sudo_user(path)


def give_to_sudo_user(path: Path) -> None:
    """Make ``path`` owned by the user who ran sudo; do nothing outside sudo.

    Raises:
        LabError: SUDO_UID or SUDO_GID is not a number, or chown failed.
    """
    uid_text, gid_text = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
    if uid_text is None or gid_text is None or os.geteuid() != 0:
        return
    try:
        uid, gid = int(uid_text), int(gid_text)
    except ValueError:
        raise LabError(
            f"invalid SUDO_UID {uid_text!r} or SUDO_GID {gid_text!r}; {path} stays owned by root"
        ) from None
    try:
        os.chown(path, uid, gid)
    except OSError as error:
        raise LabError(
            f"cannot give {path} to user {uid}: {error.strerror}; "
            f"run `sudo chown {uid}:{gid} {shlex.quote(str(path))}`"
        ) from error


def remember_roster_path(lab_directory: Path, path: Path) -> None:
    """Store the roster's absolute path in the lab's directory for ``lab status``.

    Nothing is stored when the directory does not exist, because the lab was not created.
    """
    if lab_directory.is_dir():
        write_atomic(lab_directory / ROSTER_PATH_FILE, f"{path.absolute()}\n".encode())


def remembered_roster_path(lab_directory: Path) -> Path | None:
    """Return the roster path stored by ``remember_roster_path``, or None."""
    try:
        text = (lab_directory / ROSTER_PATH_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return Path(text) if text else None


def next_commands(path: Path) -> list[str]:
    """Return the commands that use the lab roster, with a short purpose each."""
    quoted = shlex.quote(str(path))
    return [
        f"  workshop-tui board {quoted}    # watch every team's progress",
        f"  workshop-tui slips {quoted} -o slips.html    # printable login slips",
        f"  workshop-tui join {quoted} --team team-1    # open the lessons as team-1",
    ]
