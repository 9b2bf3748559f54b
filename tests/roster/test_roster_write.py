"""Writing roster files: valid TOML, mode 0600, and the same teams when read back."""

from __future__ import annotations

import dataclasses
import stat
import tomllib
from pathlib import Path

import pytest

from workshop_tui.core.login import Login
from workshop_tui.core.roster import Team, load_roster, write_roster
from workshop_tui.core.toml_text import toml_string

FINGERPRINT = "SHA256:ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs"


def teams(directory: Path) -> list[Team]:
    key_file = directory / "keys" / "team-3.key"
    key_file.parent.mkdir(exist_ok=True)
    key_file.write_text("key")
    return [
        Team(
            "team-1",
            Login(host="10.77.0.11", user="learner", password='q"uote\\back\nnew\ttab\x01é'),
            partner="TEAM 2",
            host_keys=(FINGERPRINT,),
            line=0,
        ),
        Team(
            "Team 2",
            Login(host="2001:db8::2", user="learner", port=2222, password="p#[x] = y"),
            partner="team-1",
            host_keys=(),
            line=0,
        ),
        Team(
            "team-3",
            Login(host="vps3.example.org", user="root", key_file=key_file),
            partner=None,
            host_keys=(),
            line=0,
        ),
    ]


@pytest.mark.parametrize(
    "value",
    ["plain", 'q"uote', "back\\slash", "line\nbreak", "tab\t", "bell\x07", "del\x7f", "ünï 🙂", ""],
)
def test_toml_string_round_trip(value: str) -> None:
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_round_trip(tmp_path: Path) -> None:
    written = teams(tmp_path)
    path = tmp_path / "roster.toml"
    write_roster(path, 'Mail "server" workshop', ["postfix", "dovecot"], written)
    roster = load_roster(path)
    assert roster.title == 'Mail "server" workshop'
    assert roster.lessons == ("postfix", "dovecot")
    read_back = [dataclasses.replace(team, line=0) for team in roster.teams]
    assert read_back == written


def test_round_trip_passwords(tmp_path: Path) -> None:
    written = teams(tmp_path)
    path = tmp_path / "roster.toml"
    write_roster(path, "Workshop", [], written)
    passwords = [team.login.password for team in load_roster(path).teams]
    assert passwords == [team.login.password for team in written]


def test_key_file_written_relative(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    write_roster(path, "Workshop", [], teams(tmp_path))
    assert 'key_file = "keys/team-3.key"' in path.read_text()


def test_no_lessons_line_when_empty(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    write_roster(path, "Workshop", [], teams(tmp_path))
    assert "lessons" not in path.read_text()


def test_written_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    path.write_text("old")
    path.chmod(0o644)
    write_roster(path, "Workshop", [], teams(tmp_path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_written_roster_has_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    write_roster(path, "Workshop", [], teams(tmp_path))
    assert load_roster(path).warnings == ()
