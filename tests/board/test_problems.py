"""Login problems worded for the facilitator: the methods tried and the roster entry."""

from __future__ import annotations

from pathlib import Path

import paramiko
import pytest

from workshop_tui.core.board.problems import key_not_in_roster, login_rejected, roster_entry
from workshop_tui.core.errors import AuthenticationFailed
from workshop_tui.core.login import Login, _load_key
from workshop_tui.core.roster import Team

from .fakes import OTHER_FINGERPRINT, PASSWORD, SEEN_FINGERPRINT, make_team

ROSTER = Path("workshop/roster.toml")


def key_team(key_file: Path) -> Team:
    login = Login(host="203.0.113.21", user="learner", key_file=key_file, port=2222)
    return Team(name="team-3", login=login, partner=None, host_keys=(), line=12)


def load_error(login: Login) -> AuthenticationFailed:
    """Return the error with which the login code rejects the key file of ``login``."""
    with pytest.raises(AuthenticationFailed) as caught:
        _load_key(login)
    return caught.value


def test_roster_entry_with_and_without_file() -> None:
    team = make_team()
    assert roster_entry(team, ROSTER) == "workshop/roster.toml:7"
    assert roster_entry(team, None) == "the roster, line 7"


def test_rejected_password_names_entry() -> None:
    team = make_team()
    error = AuthenticationFailed("rejected", tried=["password"], accepted=["publickey", "password"])
    problem = login_rejected(team, ROSTER, error)
    assert problem == (
        "203.0.113.21 rejected the login of team team-1 as learner (tried: password; "
        "the server accepts: publickey, password). Check the user and password of "
        "team team-1 in workshop/roster.toml:7."
    )
    assert PASSWORD not in problem


def test_rejected_key_names_key_file(tmp_path: Path) -> None:
    team = key_team(tmp_path / "team-3")
    error = AuthenticationFailed("rejected", tried=["key file team-3"], accepted=["publickey"])
    problem = login_rejected(team, ROSTER, error)
    assert "203.0.113.21:2222 rejected the login of team team-3 as learner" in problem
    assert "(tried: key file team-3; the server accepts: publickey)" in problem
    assert problem.endswith(
        "Check the user and key_file of team team-3 in workshop/roster.toml:12."
    )


def test_method_names_with_brackets_kept() -> None:
    team = make_team()
    tried = ["ssh-agent key 1 (ssh-ed25519)", "password"]
    error = AuthenticationFailed("rejected", tried=tried, accepted=["publickey", "password"])
    problem = login_rejected(team, ROSTER, error)
    assert "(tried: ssh-agent key 1 (ssh-ed25519), password; the server accepts:" in problem


def test_unlisted_methods_blame_no_method() -> None:
    team = make_team()
    error = AuthenticationFailed("rejected", tried=["password"], accepted=[])
    problem = login_rejected(team, ROSTER, error)
    assert "the server accepts: unknown methods" in problem
    assert "Check the user and password of team team-1" in problem


def test_missing_key_file_names_entry(tmp_path: Path) -> None:
    team = key_team(tmp_path / "missing")
    problem = login_rejected(team, ROSTER, load_error(team.login))
    assert problem.startswith(f"Team team-3 cannot log in: The key file {tmp_path / 'missing'}")
    assert problem.endswith("Its entry is workshop/roster.toml:12.")


def test_encrypted_key_file_needs_plain_key(tmp_path: Path) -> None:
    path = tmp_path / "encrypted"
    paramiko.RSAKey.generate(1024).write_private_key_file(str(path), password="passphrase")
    team = key_team(path)
    problem = login_rejected(team, ROSTER, load_error(team.login))
    assert "is encrypted, and the board has no passphrase for it" in problem
    assert "Enter its passphrase" not in problem
    assert problem.endswith("a key file without a passphrase in workshop/roster.toml:12.")


def test_key_not_in_roster_names_entry() -> None:
    team = make_team(host_keys=(OTHER_FINGERPRINT,))
    problem = key_not_in_roster(team, ROSTER, SEEN_FINGERPRINT)
    assert f"The host key of 203.0.113.21 is {SEEN_FINGERPRINT}" in problem
    assert f"team team-1 in workshop/roster.toml:7: {OTHER_FINGERPRINT}." in problem
